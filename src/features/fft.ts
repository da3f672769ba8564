/**
 * Magnitude spectrum of a real, windowed, zero-padded frame: |rfft(x * w, n)|.
 *
 * An n-point real FFT is computed as an n/2-point complex FFT of the even/odd
 * samples packed as re/im, followed by the standard split. Twiddles, the
 * bit-reversal permutation and the scratch buffers are precomputed per instance, so
 * a frame allocates nothing. Float64 throughout (numpy's rfft is float64).
 */
import { EarshotError } from '../errors.js';

export interface MagnitudeFft {
  readonly fftLength: number;
  readonly windowLength: number;
  /**
   * Writes |X[k]| for k in [binFrom, binTo) into mag[k] for the frame
   * x[offset .. offset + windowLength) multiplied by the window.
   */
  magnitudes(x: Float64Array, offset: number, mag: Float64Array, binFrom: number, binTo: number): void;
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
  // Where even/odd input pair j lands in the bit-reversed complex buffer.
  const rev = new Int32Array(m);
  for (let j = 0; j < m; j++) {
    let r = 0;
    for (let b = 0, v = j; b < bits; b++, v >>= 1) r = (r << 1) | (v & 1);
    rev[j] = r;
  }
  // Complex twiddles exp(-2 pi i j / m) for j < m/2, and the split twiddles exp(-2 pi i k / n).
  const twRe = new Float64Array(m >> 1);
  const twIm = new Float64Array(m >> 1);
  for (let j = 0; j < m >> 1; j++) {
    twRe[j] = Math.cos((2 * Math.PI * j) / m);
    twIm[j] = -Math.sin((2 * Math.PI * j) / m);
  }
  const spRe = new Float64Array(m + 1);
  const spIm = new Float64Array(m + 1);
  for (let k = 0; k <= m; k++) {
    spRe[k] = Math.cos((2 * Math.PI * k) / n);
    spIm[k] = -Math.sin((2 * Math.PI * k) / n);
  }
  const re = new Float64Array(m);
  const im = new Float64Array(m);
  // Pairs (2j, 2j+1) entirely past the window are zero padding.
  const pairs = Math.ceil(wlen / 2);

  function magnitudes(x: Float64Array, offset: number, mag: Float64Array, binFrom: number, binTo: number): void {
    re.fill(0);
    im.fill(0);
    for (let j = 0; j < pairs; j++) {
      const a = 2 * j;
      const r = rev[j]!;
      re[r] = x[offset + a]! * window[a]!;
      im[r] = a + 1 < wlen ? x[offset + a + 1]! * window[a + 1]! : 0;
    }
    // First two radix-2 stages fused into twiddle-free radix-4 butterflies.
    for (let i = 0; i < m; i += 4) {
      const r0 = re[i]!, i0 = im[i]!, r1 = re[i + 1]!, i1 = im[i + 1]!;
      const r2 = re[i + 2]!, i2 = im[i + 2]!, r3 = re[i + 3]!, i3 = im[i + 3]!;
      const ar = r0 + r1, ai = i0 + i1, br = r0 - r1, bi = i0 - i1;
      const cr = r2 + r3, ci = i2 + i3, dr = r2 - r3, di = i2 - i3;
      re[i] = ar + cr;
      im[i] = ai + ci;
      re[i + 2] = ar - cr;
      im[i + 2] = ai - ci;
      // (dr + i di) * (-i) = di - i dr
      re[i + 1] = br + di;
      im[i + 1] = bi - dr;
      re[i + 3] = br - di;
      im[i + 3] = bi + dr;
    }
    for (let size = 8; size <= m; size <<= 1) {
      const half = size >> 1;
      const stride = m / size;
      for (let s = 0; s < m; s += size) {
        for (let j = 0, t = 0; j < half; j++, t += stride) {
          const wr = twRe[t]!;
          const wi = twIm[t]!;
          const p = s + j;
          const q = p + half;
          const qr = re[q]!;
          const qi = im[q]!;
          const xr = qr * wr - qi * wi;
          const xi = qr * wi + qi * wr;
          const pr = re[p]!;
          const pi = im[p]!;
          re[p] = pr + xr;
          im[p] = pi + xi;
          re[q] = pr - xr;
          im[q] = pi - xi;
        }
      }
    }
    for (let k = binFrom; k < binTo; k++) {
      const k1 = k === m ? 0 : k;
      const k2 = k === 0 ? 0 : m - k;
      const a = re[k1]!, b = im[k1]!, c = re[k2]!, d = im[k2]!;
      const er = 0.5 * (a + c);
      const ei = 0.5 * (b - d);
      const or = 0.5 * (b + d);
      const oi = -0.5 * (a - c);
      const wr = spRe[k]!;
      const wi = spIm[k]!;
      const xr = er + wr * or - wi * oi;
      const xi = ei + wr * oi + wi * or;
      mag[k] = Math.sqrt(xr * xr + xi * xi);
    }
  }

  return { fftLength: n, windowLength: wlen, magnitudes };
}
