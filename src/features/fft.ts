/**
 * Magnitude spectrum of a real, windowed, zero-padded frame: |rfft(x * w, n)|.
 *
 * The n-point real FFT is an n/2-point complex FFT of the even/odd samples packed as
 * re/im, then the standard split. The complex FFT is decimation-in-frequency in
 * fused radix-2^2 passes (3 twiddle multiplies per 4 points, half the memory passes
 * of radix-2); DIF takes its input in natural order, so the windowed frame is read
 * straight from x by the first pass, the last two passes run as one unrolled radix-16
 * kernel (fft-kernels.ts), and only the split reads through the bit-reversal table.
 * Twiddles, tables and scratch are per instance: a frame allocates nothing.
 * Float64 throughout (numpy's rfft is float64).
 */
import { EarshotError } from '../errors.js';
import { tail16 } from './fft-kernels.js';

export interface MagnitudeFft {
  readonly fftLength: number;
  readonly windowLength: number;
  /**
   * Writes |X[k]| for every k in [0, fftLength/2] into mag[k] for the frame
   * x[offset .. offset + windowLength) multiplied by the window.
   */
  magnitudes(x: Float64Array, offset: number, mag: Float64Array): void;
  /**
   * Runs the packed complex FFT of the windowed frame into `re`/`im` (Z[k] at rev[k]);
   * bin k of the real FFT is then X[k] = E + W^k O with `splitRe`/`splitIm` = W^k, as
   * in `magnitudes`. Exposed with the tables below for the WebAssembly kernel.
   */
  forward(x: Float64Array, offset: number): void;
  readonly re: Float64Array;
  readonly im: Float64Array;
  readonly rev: Int32Array;
  readonly splitRe: Float64Array;
  readonly splitIm: Float64Array;
  /** The window and the radix-4 pass twiddles, for the WebAssembly kernel's tables. */
  readonly window: Float64Array;
  readonly passes: readonly Pass[];
}

export interface Pass {
  /** quarter length of the sub-transforms in this pass */
  readonly q: number;
  /** per j < q: W^j, W^2j, W^3j (W = exp(-2 pi i / 4q)) as re,im pairs, 6 values per j */
  readonly tw: Float64Array;
}

function makePass(q: number): Pass {
  const l = 4 * q;
  const tw = new Float64Array(6 * q);
  for (let j = 0; j < q; j++) {
    for (let mult = 1; mult <= 3; mult++) {
      tw[6 * j + 2 * (mult - 1)] = Math.cos((2 * Math.PI * mult * j) / l);
      tw[6 * j + 2 * (mult - 1) + 1] = -Math.sin((2 * Math.PI * mult * j) / l);
    }
  }
  return { q, tw };
}

/** One fused pair of radix-2 DIF stages over every block of length 4q. */
function radix4Pass(re: Float64Array, im: Float64Array, m: number, q: number, tw: Float64Array): void {
  for (let s = 0; s < m; s += 4 * q) {
    for (let j = 0, t = 0; j < q; j++, t += 6) {
      const i0 = s + j;
      const i1 = i0 + q;
      const i2 = i1 + q;
      const i3 = i2 + q;
      const a0r = re[i0]!,
        a0i = im[i0]!,
        a1r = re[i1]!,
        a1i = im[i1]!;
      const a2r = re[i2]!,
        a2i = im[i2]!,
        a3r = re[i3]!,
        a3i = im[i3]!;
      const b0r = a0r + a2r,
        b0i = a0i + a2i,
        b1r = a1r + a3r,
        b1i = a1i + a3i;
      const dr = a0r - a2r,
        di = a0i - a2i,
        er = a1r - a3r,
        ei = a1i - a3i;
      const w1r = tw[t]!,
        w1i = tw[t + 1]!,
        w2r = tw[t + 2]!,
        w2i = tw[t + 3]!,
        w3r = tw[t + 4]!,
        w3i = tw[t + 5]!;
      re[i0] = b0r + b1r;
      im[i0] = b0i + b1i;
      // c1 = (b0 - b1) W^2j
      const c1r = b0r - b1r,
        c1i = b0i - b1i;
      re[i1] = c1r * w2r - c1i * w2i;
      im[i1] = c1r * w2i + c1i * w2r;
      // c2 = (d - i e) W^j, c3 = (d + i e) W^3j
      const t1r = dr + ei,
        t1i = di - er;
      const t2r = dr - ei,
        t2i = di + er;
      re[i2] = t1r * w1r - t1i * w1i;
      im[i2] = t1r * w1i + t1i * w1r;
      re[i3] = t2r * w3r - t2i * w3i;
      im[i3] = t2r * w3i + t2i * w3r;
    }
  }
}

export function createMagnitudeFft(window: Float64Array, fftLength: number): MagnitudeFft {
  const n = fftLength;
  const m = n >> 1;
  if (n < 4 || (n & (n - 1)) !== 0 || window.length > n) {
    throw new EarshotError('CONFIG_INVALID', `FFT length ${n} must be a power of two >= 4 and >= window length ${window.length}`, {
      fftLength: n,
      windowLength: window.length,
    });
  }
  const bits = Math.log2(m);
  const wlen = window.length;
  // DIF leaves Z[k] at position rev[k].
  const rev = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    let r = 0;
    for (let b = 0, v = j; b < bits; b++, v >>= 1) r = (r << 1) | (v & 1);
    rev[j] = r;
  }
  const passes: Pass[] = [];
  let q = m >> 2;
  // The q = 1 pass has unit twiddles and runs separately without them.
  for (; q > 1; q >>= 2) passes.push(makePass(q));
  const lastRadix4 = q === 1;
  // log2(m) odd: one radix-2 stage (size 2, twiddle-free) remains after the radix-4 passes.
  const lastRadix2 = bits % 2 === 1;
  // Split twiddles exp(-2 pi i k / n), k <= m.
  const spRe = new Float64Array(m + 1);
  const spIm = new Float64Array(m + 1);
  for (let k = 0; k <= m; k++) {
    spRe[k] = Math.cos((2 * Math.PI * k) / n);
    spIm[k] = -Math.sin((2 * Math.PI * k) / n);
  }
  const reBuf = new Float64Array(m);
  const imBuf = new Float64Array(m);
  const fullPairs = wlen >> 1;
  const oddTail = wlen % 2 === 1;

  // The first radix-4 pass reads the windowed frame straight from x (no separate
  // load pass); even window lengths only, odd ones take the plain load below.
  const fuseFirst = passes.length > 0 && !oddTail;
  // m = 4^k >= 64: the q = 4 and q = 1 passes run fused (the first pass must be a different one).
  const useTail16 = lastRadix4 && passes.length >= 2 && passes[passes.length - 1]!.q === 4;

  function firstPass(x: Float64Array, offset: number, re: Float64Array, im: Float64Array): void {
    const { q, tw } = passes[0]!;
    const w = window;
    const pairs = fullPairs;
    for (let j = 0, t = 0; j < q; j++, t += 6) {
      const i1 = j + q;
      const i2 = i1 + q;
      const i3 = i2 + q;
      // Packed sample idx = (x[2 idx] w[2 idx], x[2 idx + 1] w[2 idx + 1]); zero past the window.
      let a0r = 0,
        a0i = 0,
        a1r = 0,
        a1i = 0,
        a2r = 0,
        a2i = 0,
        a3r = 0,
        a3i = 0;
      if (j < pairs) {
        a0r = x[offset + 2 * j]! * w[2 * j]!;
        a0i = x[offset + 2 * j + 1]! * w[2 * j + 1]!;
      }
      if (i1 < pairs) {
        a1r = x[offset + 2 * i1]! * w[2 * i1]!;
        a1i = x[offset + 2 * i1 + 1]! * w[2 * i1 + 1]!;
      }
      if (i2 < pairs) {
        a2r = x[offset + 2 * i2]! * w[2 * i2]!;
        a2i = x[offset + 2 * i2 + 1]! * w[2 * i2 + 1]!;
      }
      if (i3 < pairs) {
        a3r = x[offset + 2 * i3]! * w[2 * i3]!;
        a3i = x[offset + 2 * i3 + 1]! * w[2 * i3 + 1]!;
      }
      const b0r = a0r + a2r,
        b0i = a0i + a2i,
        b1r = a1r + a3r,
        b1i = a1i + a3i;
      const dr = a0r - a2r,
        di = a0i - a2i,
        er = a1r - a3r,
        ei = a1i - a3i;
      const w1r = tw[t]!,
        w1i = tw[t + 1]!,
        w2r = tw[t + 2]!,
        w2i = tw[t + 3]!,
        w3r = tw[t + 4]!,
        w3i = tw[t + 5]!;
      re[j] = b0r + b1r;
      im[j] = b0i + b1i;
      const c1r = b0r - b1r,
        c1i = b0i - b1i;
      re[i1] = c1r * w2r - c1i * w2i;
      im[i1] = c1r * w2i + c1i * w2r;
      const t1r = dr + ei,
        t1i = di - er;
      const t2r = dr - ei,
        t2i = di + er;
      re[i2] = t1r * w1r - t1i * w1i;
      im[i2] = t1r * w1i + t1i * w1r;
      re[i3] = t2r * w3r - t2i * w3i;
      im[i3] = t2r * w3i + t2i * w3r;
    }
  }

  function load(x: Float64Array, offset: number, re: Float64Array, im: Float64Array): void {
    for (let j = 0, a = offset; j < fullPairs; j++, a += 2) {
      re[j] = x[a]! * window[2 * j]!;
      im[j] = x[a + 1]! * window[2 * j + 1]!;
    }
    let j = fullPairs;
    if (oddTail) {
      re[j] = x[offset + 2 * j]! * window[2 * j]!;
      im[j] = 0;
      j++;
    }
    for (; j < m; j++) {
      re[j] = 0;
      im[j] = 0;
    }
  }

  function forward(x: Float64Array, offset: number): void {
    // Locals, not closure slots: lets the JIT keep the arrays' base/length in registers.
    const re = reBuf;
    const im = imBuf;
    let first = 0;
    if (fuseFirst) {
      firstPass(x, offset, re, im);
      first = 1;
    } else {
      load(x, offset, re, im);
    }
    if (useTail16) {
      for (let i = first; i < passes.length - 1; i++) radix4Pass(re, im, m, passes[i]!.q, passes[i]!.tw);
      tail16(re, im, m, passes[passes.length - 1]!.tw);
      return;
    }
    for (let i = first; i < passes.length; i++) radix4Pass(re, im, m, passes[i]!.q, passes[i]!.tw);
    if (lastRadix4) {
      for (let i = 0; i < m; i += 4) {
        const a0r = re[i]!,
          a0i = im[i]!,
          a1r = re[i + 1]!,
          a1i = im[i + 1]!;
        const a2r = re[i + 2]!,
          a2i = im[i + 2]!,
          a3r = re[i + 3]!,
          a3i = im[i + 3]!;
        const b0r = a0r + a2r,
          b0i = a0i + a2i,
          b1r = a1r + a3r,
          b1i = a1i + a3i;
        const dr = a0r - a2r,
          di = a0i - a2i,
          er = a1r - a3r,
          ei = a1i - a3i;
        re[i] = b0r + b1r;
        im[i] = b0i + b1i;
        re[i + 1] = b0r - b1r;
        im[i + 1] = b0i - b1i;
        re[i + 2] = dr + ei;
        im[i + 2] = di - er;
        re[i + 3] = dr - ei;
        im[i + 3] = di + er;
      }
    }
    if (lastRadix2) {
      for (let i = 0; i < m; i += 2) {
        const ar = re[i]!,
          ai = im[i]!,
          br = re[i + 1]!,
          bi = im[i + 1]!;
        re[i] = ar + br;
        im[i] = ai + bi;
        re[i + 1] = ar - br;
        im[i + 1] = ai - bi;
      }
    }
  }

  /**
   * Bins k and m - k come from the same two FFT outputs: with E, O the even/odd parts
   * of bin k and P = W^k O, X[k] = E + P and X[m - k] = conj(E - P). One pass over
   * k <= m/2 therefore yields every magnitude with half the loads and arithmetic.
   */
  function magnitudes(x: Float64Array, offset: number, mag: Float64Array): void {
    forward(x, offset);
    const re = reBuf;
    const im = imBuf;
    const r2 = rev;
    const wRe = spRe;
    const wIm = spIm;
    const z0r = re[0]!;
    const z0i = im[0]!;
    mag[0] = Math.abs(z0r + z0i);
    mag[m] = Math.abs(z0r - z0i);
    for (let k = 1, h = m >> 1; k <= h; k++) {
      const k1 = r2[k]!;
      const k2 = r2[m - k]!;
      const a = re[k1]!,
        b = im[k1]!,
        c = re[k2]!,
        d = im[k2]!;
      const er = 0.5 * (a + c);
      const ei = 0.5 * (b - d);
      const or = 0.5 * (b + d);
      const oi = -0.5 * (a - c);
      const wr = wRe[k]!;
      const wi = wIm[k]!;
      const pr = wr * or - wi * oi;
      const pi = wr * oi + wi * or;
      const mr = er - pr;
      const mi = ei - pi;
      mag[m - k] = Math.sqrt(mr * mr + mi * mi);
      const xr = er + pr;
      const xi = ei + pi;
      mag[k] = Math.sqrt(xr * xr + xi * xi);
    }
  }

  return { fftLength: n, windowLength: wlen, magnitudes, forward, re: reBuf, im: imBuf, rev, splitRe: spRe, splitIm: spIm, window, passes };
}
