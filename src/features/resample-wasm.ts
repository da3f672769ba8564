/**
 * Polyphase form of the kaiser_best resampler, run by the f64x2 WebAssembly kernel in
 * wasm/resample.wat. For integer rates with srOut / srIn = L / M in lowest terms, output
 * t = q L + p reads the input window that output p reads, moved q M samples on, with the
 * same interpolated filter taps. So the taps of each of the L phases are computed once
 * here, with the TypeScript path's own arithmetic (resampleOne's `rows[w] + eta * rows[w + 1]`
 * at t = p), and every output sample becomes one dot product.
 *
 * Differences from the TypeScript path: the summation order (four SIMD accumulators
 * instead of left wing then right wing), and the phase of output t is that of t mod L
 * instead of float64(t * timeIncrement), whose rounding error grows with t. Both stay far
 * below 1e-6 (test/features/resample-wasm.test.ts measures them, also a day into a stream).
 *
 * Returns null (callers use the TypeScript path) where this does not apply: non-integer
 * rates, a phase table over MAX_TABLE_BYTES (rates with a large L, e.g. 44100 -> 16001),
 * no WebAssembly SIMD.
 */
import { ensureMemory, instantiate, lazyWasmModule, type WasmMemory } from '../util/wasm.js';
import type { ResampleKernel } from './resample.js';
import { RESAMPLE_WASM_BASE64 } from './wasm/resample-bytes.js';

/** Samples readable as x[i - base] for i in [base, base + x.length); everything else is 0. */
export interface SampleSource {
  readonly x: Float32Array | Float64Array;
  readonly base: number;
}

export interface PolyphasePlan {
  /** Phases (L) and input samples per L outputs (M). */
  readonly phases: number;
  readonly advancePerCycle: number;
  /** Window length of every output sample (a multiple of 8; zero taps pad the shorter phases). */
  readonly taps: number;
  /** First input sample output t reads; its window is [start, start + taps). */
  windowStart(t: number): number;
  /**
   * Writes outputs t0 .. t0 + count - 1 to out[outOffset ...], reading input sample i from
   * `src` when 0 <= i < nOrig and zero otherwise. The caller guarantees `src` holds every
   * sample in [0, nOrig) that those windows touch.
   */
  compute(t0: number, count: number, src: SampleSource, nOrig: number, out: Float64Array, outOffset: number): void;
}

/** Above this the phase table stops fitting in cache and the TypeScript path is used. */
export const MAX_TABLE_BYTES = 8 * 1024 * 1024;
/** Input samples staged per kernel call (plus one window). */
const STAGE_SAMPLES = 1 << 16;

interface KernelExports {
  readonly memory: WasmMemory;
  configure(coef: number, adv: number, phases: number, taps: number): void;
  run(x: number, count: number, phase: number, out: number): void;
}

const kernelModule = lazyWasmModule(RESAMPLE_WASM_BASE64);

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Left (x[n], x[n-1], ...) and right (x[n+1], ...) taps of output t, as resampleOne weights them. */
function phaseTaps(k: ResampleKernel, t: number): { n: number; left: number[]; right: number[] } {
  const { rows, rowStart, numTable, scale, indexStep, nwin } = k;
  const time = t * k.timeIncrement;
  const n = Math.trunc(time);
  const wing = (frac: number): number[] => {
    const indexFrac = frac * numTable;
    const offset = Math.trunc(indexFrac);
    const eta = indexFrac - offset;
    const out: number[] = [];
    const count = Math.floor((nwin - offset) / indexStep);
    let w = 2 * (rowStart[offset % indexStep]! + Math.floor(offset / indexStep));
    for (let i = 0; i < count; i++, w += 2) out.push(rows[w]! + eta * rows[w + 1]!);
    return out;
  };
  const frac = scale * (time - n);
  return { n, left: wing(frac), right: wing(scale - frac) };
}

interface PhaseTable {
  readonly phases: number;
  readonly cycle: number;
  readonly taps: number;
  readonly coef: Float64Array;
  /** windowStart(p) for p in [0, phases): output p's first input sample (may be negative). */
  readonly start: Int32Array;
  /** start[p + 1] - start[p], with start[phases] = cycle + start[0]. */
  readonly adv: Int32Array;
}

function phaseTable(k: ResampleKernel): PhaseTable | null {
  const { srInHz, srOutHz } = k;
  if (!Number.isSafeInteger(srInHz) || !Number.isSafeInteger(srOutHz)) return null;
  const g = gcd(srInHz, srOutHz);
  const phases = srOutHz / g;
  const cycle = srInHz / g;
  // Each phase has ~2 * maxTaps taps: reject before building anything large.
  if (phases * 2 * k.maxTaps * 8 > MAX_TABLE_BYTES) return null;
  const all = Array.from({ length: phases }, (_, p) => phaseTaps(k, p));
  const lead = Math.max(...all.map((a) => a.left.length)); // taps at or before n
  const trail = Math.max(...all.map((a) => a.right.length));
  const taps = Math.ceil((lead + trail) / 8) * 8;
  const coef = new Float64Array(phases * taps);
  const start = new Int32Array(phases);
  const adv = new Int32Array(phases);
  all.forEach(({ n, left, right }, p) => {
    const row = p * taps;
    // Window index j holds input sample start + j = n - (lead - 1) + j.
    left.forEach((c, i) => (coef[row + lead - 1 - i] = c));
    right.forEach((c, i) => (coef[row + lead + i] = c));
    start[p] = n - (lead - 1);
  });
  for (let p = 0; p < phases; p++) adv[p] = (p + 1 < phases ? start[p + 1]! : cycle + start[0]!) - start[p]!;
  return { phases, cycle, taps, coef, start, adv };
}

const align16 = (n: number): number => (n + 15) & ~15;

export function makePolyphasePlan(k: ResampleKernel): PolyphasePlan | null {
  const mod = kernelModule();
  if (mod === null) return null;
  const table = phaseTable(k);
  if (table === null) return null;
  const { phases, cycle, taps, coef, start, adv } = table;
  // Outputs per call: their windows must fit the staging area.
  const block = Math.max(1, Math.min(4096, Math.floor((STAGE_SAMPLES * phases) / cycle)));
  const stage = Math.ceil((block * cycle) / phases) + 1 + taps;

  const inst = instantiate<KernelExports>(mod);
  const coefP = 0;
  const advP = align16(coefP + 8 * coef.length);
  const xP = align16(advP + 4 * phases);
  const outP = align16(xP + 8 * stage);
  const need = outP + 8 * block;
  ensureMemory(inst.memory, need);
  const buf = inst.memory.buffer;
  new Float64Array(buf, coefP, coef.length).set(coef);
  new Int32Array(buf, advP, phases).set(adv);
  inst.configure(coefP, advP, phases, taps);
  const xs = new Float64Array(buf, xP, stage);
  const ys = new Float64Array(buf, outP, block);

  const windowStart = (t: number): number => {
    const p = t % phases;
    return ((t - p) / phases) * cycle + start[p]!;
  };

  /** xs[0 .. len) = input samples from..from + len, zero outside [0, nOrig) and outside src. */
  function stageInput(src: SampleSource, nOrig: number, from: number, len: number): void {
    const lo = Math.max(from, 0, src.base);
    const hi = Math.min(from + len, nOrig, src.base + src.x.length);
    if (hi <= lo) {
      xs.fill(0, 0, len);
      return;
    }
    xs.fill(0, 0, lo - from);
    xs.set(src.x.subarray(lo - src.base, hi - src.base), lo - from);
    xs.fill(0, hi - from, len);
  }

  return {
    phases,
    advancePerCycle: cycle,
    taps,
    windowStart,
    compute(t0, count, src, nOrig, out, outOffset) {
      for (let done = 0; done < count; done += block) {
        const n = Math.min(block, count - done);
        const t = t0 + done;
        const from = windowStart(t);
        stageInput(src, nOrig, from, windowStart(t + n - 1) + taps - from);
        inst.run(xP, n, t % phases, outP);
        out.set(n === block ? ys : ys.subarray(0, n), outOffset + done);
      }
    },
  };
}
