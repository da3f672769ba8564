/**
 * Log-mel frames through the f64x2 WebAssembly kernel in wasm/logmel.wat: the same
 * float64 operations in the same order as the TypeScript path (fft.ts + logmel.ts), so
 * both produce bit-identical frames (test/features/wasm.test.ts checks it); the kernel
 * just runs the FFT passes two lanes at a time without JS bounds checks. Math.log stays
 * in JS (WebAssembly has no log). Returns null where the kernel does not apply (FFT size
 * not a power of 4 in [16, 1024], odd window, no WebAssembly SIMD): callers then use
 * the TypeScript path.
 */
import { ensureMemory, instantiate, lazyWasmModule, type WasmMemory } from '../util/wasm.js';
import type { MagnitudeFft } from './fft.js';
import { LOGMEL_WASM_BASE64 } from './wasm/logmel-bytes.js';

export interface MelLayout {
  readonly bands: number;
  readonly bins: number;
  readonly segStart: Int32Array;
  readonly segEnd: Int32Array;
  readonly wRise: Float64Array;
  readonly wFall: Float64Array;
  readonly logOffset: number;
}

export type FramesFn = (x: Float64Array, offset: number, count: number, out: Float32Array, outOffset: number) => void;

interface KernelExports {
  readonly memory: WasmMemory;
  configure(...args: number[]): void;
  frames(x: number, count: number, hopBytes: number, out: number): void;
}

const TABLES_AT = 32768;
/** Frames per kernel call: bounds the input/output staging area in wasm memory. */
const BLOCK_FRAMES = 256;

// Compiled once per process (immutable); each frontend gets its own instance and memory.
const kernelModule = lazyWasmModule(LOGMEL_WASM_BASE64);

const align8 = (n: number): number => (n + 7) & ~7;

export function createWasmFrames(fft: MagnitudeFft, hopSamples: number, mel: MelLayout): FramesFn | null {
  const m = fft.fftLength / 2;
  const pairs = fft.windowLength / 2;
  const isPow4 = m >= 16 && m <= 1024 && (m & (m - 1)) === 0 && Math.log2(m) % 2 === 0;
  if (!isPow4 || fft.windowLength % 2 !== 0 || fft.passes.length === 0 || fft.passes[fft.passes.length - 1]!.q !== 4) return null;
  const mod = kernelModule();
  if (mod === null) return null;
  const k = instantiate<KernelExports>(mod);

  // Table layout (byte offsets), every region 8-byte aligned.
  let at = TABLES_AT;
  const take = (bytes: number): number => {
    const p = at;
    at = align8(at + bytes);
    return p;
  };
  const winP = take(8 * fft.windowLength);
  const twP = take(fft.passes.reduce((s, p) => s + 48 * p.q, 0));
  const revP = take(4 * m);
  const spReP = take(8 * (m + 1));
  const spImP = take(8 * (m + 1));
  const segStartP = take(4 * (mel.bands + 1));
  const segEndP = take(4 * (mel.bands + 1));
  const wRiseP = take(8 * mel.bins);
  const wFallP = take(8 * mel.bins);
  const magP = take(8 * mel.bins);
  const riseP = take(8 * (mel.bands + 1));
  const fallP = take(8 * (mel.bands + 1));
  const outP = take(8 * mel.bands * BLOCK_FRAMES);
  const xP = at;
  const maxSamples = (BLOCK_FRAMES - 1) * hopSamples + fft.windowLength;
  const need = xP + 8 * maxSamples;
  ensureMemory(k.memory, need);

  const buf = k.memory.buffer;
  const f64 = (p: number, n: number): Float64Array => new Float64Array(buf, p, n);
  const i32 = (p: number, n: number): Int32Array => new Int32Array(buf, p, n);
  f64(winP, fft.windowLength).set(fft.window);
  // fft.ts interleaves W^j, W^2j, W^3j per j; the kernel loads two j at a time, so planar.
  let tp = twP;
  for (const { q, tw } of fft.passes) {
    const planar = f64(tp, 6 * q);
    for (let j = 0; j < q; j++) for (let c = 0; c < 6; c++) planar[c * q + j] = tw[6 * j + c]!;
    tp += 48 * q;
  }
  i32(revP, m).set(fft.rev);
  f64(spReP, m + 1).set(fft.splitRe);
  f64(spImP, m + 1).set(fft.splitIm);
  i32(segStartP, mel.bands + 1).set(mel.segStart);
  i32(segEndP, mel.bands + 1).set(mel.segEnd);
  f64(wRiseP, mel.bins).set(mel.wRise);
  f64(wFallP, mel.bins).set(mel.wFall);
  k.configure(m, pairs, winP, twP, revP, spReP, spImP, segStartP, segEndP, wRiseP, wFallP, magP, riseP, fallP, mel.bands, mel.logOffset);
  const xs = f64(xP, maxSamples);
  const energies = f64(outP, mel.bands * BLOCK_FRAMES);
  const bands = mel.bands;

  return (x, offset, count, out, outOffset) => {
    for (let f0 = 0; f0 < count; f0 += BLOCK_FRAMES) {
      const n = Math.min(BLOCK_FRAMES, count - f0);
      const from = offset + f0 * hopSamples;
      xs.set(x.subarray(from, from + (n - 1) * hopSamples + fft.windowLength));
      k.frames(xP, n, 8 * hopSamples, outP);
      const o = outOffset + f0 * bands;
      for (let i = 0, e = n * bands; i < e; i++) out[o + i] = Math.log(energies[i]!);
    }
  };
}
