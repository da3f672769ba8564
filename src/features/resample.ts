/**
 * Band-limited resampling equal to resampy 0.4.2 `resample(x, srIn, srOut)` with its
 * default `kaiser_best` filter (what VGGish's vggish_input.py calls), in float64.
 *
 * Two engines, chosen per rate pair:
 * - 'wasm' (default where it applies): the polyphase WebAssembly SIMD kernel of
 *   resample-wasm.ts, the same filter taps as the TypeScript path, equal to it within
 *   1e-6 (a different summation order; see there).
 * - 'js': `resampleOne`, the per-output-sample kernel that mirrors resampy's interpn
 *   `_resample_loop` term by term and in the same summation order.
 * Within an engine, batch and streaming run the same per-sample computation, so the
 * streaming resampler is bit-identical to the batch one for any chunking.
 */
import { EarshotError } from '../errors.js';
import { kaiserBest, type SincFilter } from './kaiser.js';
import { makePolyphasePlan, type PolyphasePlan } from './resample-wasm.js';
import { SlidingBuffer } from './sliding.js';

export type ResampleEngine = 'wasm' | 'js';

export interface ResampleOptions {
  /** 'auto' (default) takes the WebAssembly polyphase path where it applies; 'js' forces the TypeScript one. */
  readonly engine?: 'auto' | 'js';
  /** Kernel to use instead of the memoised kaiser_best one for this rate pair. */
  readonly kernel?: ResampleKernel;
}

/** Everything the kernel needs for one (srIn, srOut) pair; immutable once built. */
export interface ResampleKernel {
  readonly srInHz: number;
  readonly srOutHz: number;
  /** Filter half-window length (resampy's nwin). */
  readonly nwin: number;
  /**
   * The filter half-window (pre-scaled by the ratio when downsampling, as resampy
   * does) and its forward differences (np.diff(win, append=win[-1])), interleaved
   * (win, delta) and stored polyphase-major: entry j's pair starts at
   * 2 * (rowStart[j % indexStep] + floor(j / indexStep)).
   * One output sample reads win[offset + i * indexStep] for i = 0, 1, ...: in this
   * layout that is a contiguous run instead of a 23 KB stride through a 3 MB table.
   * Same numbers, same order: only the memory layout differs.
   */
  readonly rows: Float64Array;
  readonly rowStart: Int32Array;
  readonly numTable: number;
  readonly scale: number;
  readonly indexStep: number;
  /** Input samples per output sample (1 / ratio), resampy's time_increment. */
  readonly timeIncrement: number;
  /** Upper bound on taps per wing: how much history / lookahead the kernel reads. */
  readonly maxTaps: number;
}

function checkRate(name: string, hz: number): void {
  if (!Number.isFinite(hz) || hz <= 0) {
    throw new EarshotError('INPUT_INVALID', `${name} must be a positive sample rate, got ${hz}`, { [name]: hz });
  }
}

export function makeResampleKernel(srInHz: number, srOutHz: number, filter: SincFilter = kaiserBest()): ResampleKernel {
  checkRate('srInHz', srInHz);
  checkRate('srOutHz', srOutHz);
  const ratio = srOutHz / srInHz;
  const base = filter.halfWindow;
  const nwin = base.length;
  const scaled = ratio < 1;
  const scale = Math.min(1, ratio);
  const numTable = filter.precisionPerCrossing;
  const indexStep = Math.trunc(scale * numTable);
  if (indexStep < 1) {
    throw new EarshotError('INPUT_INVALID', `cannot resample ${srInHz} Hz to ${srOutHz} Hz: ratio below the filter's resolution`, { srInHz, srOutHz });
  }
  const rowStart = new Int32Array(indexStep + 1);
  const rows = new Float64Array(2 * nwin);
  // Row r holds table entries r, r + step, r + 2 step, ...; values are resampy's
  // (ratio * win when downsampling, and the difference of those scaled values).
  let at = 0;
  for (let r = 0; r < indexStep; r++) {
    rowStart[r] = at;
    for (let j = r; j < nwin; j += indexStep, at++) {
      const v = scaled ? ratio * base[j]! : base[j]!;
      rows[2 * at] = v;
      rows[2 * at + 1] = j + 1 < nwin ? (scaled ? ratio * base[j + 1]! : base[j + 1]!) - v : 0;
    }
  }
  rowStart[indexStep] = at;
  return Object.freeze({
    rows,
    srInHz,
    srOutHz,
    nwin,
    rowStart,
    numTable,
    scale,
    indexStep,
    timeIncrement: 1 / ratio,
    maxTaps: Math.ceil(nwin / indexStep) + 1,
  });
}

// Kernels are immutable and ~6.5 MB; batch callers (one file after another) reuse the
// few rates they meet instead of rebuilding one per call. Bounded, least recently used.
const KERNEL_CACHE_SIZE = 4;
const kernelCache = new Map<string, ResampleKernel>();

/** makeResampleKernel for the default kaiser_best filter, memoised per rate pair. */
export function kaiserBestKernel(srInHz: number, srOutHz: number): ResampleKernel {
  const key = `${srInHz}>${srOutHz}`;
  let k = kernelCache.get(key);
  if (k === undefined) {
    k = makeResampleKernel(srInHz, srOutHz);
    if (kernelCache.size >= KERNEL_CACHE_SIZE) kernelCache.delete(kernelCache.keys().next().value!);
  } else {
    kernelCache.delete(key);
  }
  kernelCache.set(key, k);
  return k;
}

// A plan is a pure function of its (immutable) kernel: built once per kernel, dropped with it.
const plans = new WeakMap<ResampleKernel, PolyphasePlan | null>();

function planFor(k: ResampleKernel, opts: ResampleOptions): PolyphasePlan | null {
  if (opts.engine === 'js') return null;
  let plan = plans.get(k);
  if (plan === undefined) {
    plan = makePolyphasePlan(k);
    plans.set(k, plan);
  }
  return plan;
}

/** The engine resample / createStreamingResampler use for this rate pair (equal rates copy: 'js'). */
export function resampleEngine(srInHz: number, srOutHz: number, opts: ResampleOptions = {}): ResampleEngine {
  if (srInHz === srOutHz) return 'js';
  return planFor(opts.kernel ?? kaiserBestKernel(srInHz, srOutHz), opts) === null ? 'js' : 'wasm';
}

/** resampy's output length: int(n * srOut / srIn), evaluated left to right in float64. */
export function resampledLength(nIn: number, srInHz: number, srOutHz: number): number {
  return Math.floor((nIn * srOutHz) / srInHz);
}

/**
 * Output sample `t`. `x[j]` holds input sample `x0 + j`; `nOrig` is the total input
 * length when known (end of stream) or any bound the caller has already checked the
 * lookahead against.
 */
export function resampleOne(k: ResampleKernel, x: Float64Array, x0: number, nOrig: number, t: number): number {
  const { rows, rowStart, numTable, scale, indexStep, nwin } = k;
  const time = t * k.timeIncrement;
  const n = Math.trunc(time);
  let frac = scale * (time - n);
  let indexFrac = frac * numTable;
  let offset = Math.trunc(indexFrac);
  let eta = indexFrac - offset;
  let y = 0;
  // Left wing: win[offset + i * indexStep] * x[n - i]
  const iMax = Math.min(n + 1, Math.floor((nwin - offset) / indexStep));
  let w = 2 * (rowStart[offset % indexStep]! + Math.floor(offset / indexStep));
  for (let i = 0, p = n - x0; i < iMax; i++, p--, w += 2) {
    y += (rows[w]! + eta * rows[w + 1]!) * x[p]!;
  }
  frac = scale - frac;
  indexFrac = frac * numTable;
  offset = Math.trunc(indexFrac);
  eta = indexFrac - offset;
  // Right wing: win[offset + k * indexStep] * x[n + k + 1]
  const kMax = Math.min(nOrig - n - 1, Math.floor((nwin - offset) / indexStep));
  w = 2 * (rowStart[offset % indexStep]! + Math.floor(offset / indexStep));
  for (let i = 0, p = n + 1 - x0; i < kMax; i++, p++, w += 2) {
    y += (rows[w]! + eta * rows[w + 1]!) * x[p]!;
  }
  return y;
}

/** Batch resampling (resampy.resample with kaiser_best). Equal rates return a float64 copy. */
export function resample(x: Float32Array | Float64Array, srInHz: number, srOutHz: number, opts: ResampleOptions = {}): Float64Array {
  if (srInHz === srOutHz) {
    checkRate('srInHz', srInHz);
    return Float64Array.from(x);
  }
  const k = opts.kernel ?? kaiserBestKernel(srInHz, srOutHz);
  const nOut = resampledLength(x.length, srInHz, srOutHz);
  const y = new Float64Array(Math.max(0, nOut));
  const plan = planFor(k, opts);
  if (plan !== null) {
    plan.compute(0, y.length, { x, base: 0 }, x.length, y, 0);
    return y;
  }
  const xd = x instanceof Float64Array ? x : Float64Array.from(x);
  for (let t = 0; t < nOut; t++) y[t] = resampleOne(k, xd, 0, xd.length, t);
  return y;
}

/**
 * Chunks in, samples out. Output sample t is emitted only once every input sample
 * its right wing reads has arrived (or the stream has ended), so its value never
 * depends on where the chunk boundaries fell.
 */
export interface StreamingResampler {
  /** Adds input; returns the output samples that became final (possibly none). */
  push(chunk: Float32Array | Float64Array): Float64Array;
  /** Ends the stream; returns the held-back tail (resampy zero-pads past the end). */
  end(): Float64Array;
  /** Output samples emitted so far. */
  readonly emitted: number;
  readonly engine: ResampleEngine;
}

export function createStreamingResampler(srInHz: number, srOutHz: number, opts: ResampleOptions = {}): StreamingResampler {
  if (srInHz === srOutHz) {
    checkRate('srInHz', srInHz);
    let emitted = 0;
    return {
      push(chunk) {
        emitted += chunk.length;
        return Float64Array.from(chunk);
      },
      end: () => new Float64Array(0),
      get emitted() {
        return emitted;
      },
      engine: 'js',
    };
  }
  const k = opts.kernel ?? kaiserBestKernel(srInHz, srOutHz);
  const plan = planFor(k, opts);
  // What each engine reads: output t needs input [firstRead(t), lastRead(t)).
  const firstRead = plan === null ? (t: number) => Math.trunc(t * k.timeIncrement) - k.maxTaps : plan.windowStart;
  const lastRead = plan === null ? (t: number) => Math.trunc(t * k.timeIncrement) + k.maxTaps + 1 : (t: number) => plan.windowStart(t) + plan.taps;
  const buf = new SlidingBuffer((n) => new Float64Array(n), 4096);
  let received = 0;
  let next = 0; // next output index
  let ended = false;

  function append(chunk: Float32Array | Float64Array): void {
    buf.dropBefore(Math.max(0, firstRead(next)));
    buf.append(chunk);
    received += chunk.length;
  }

  function drain(nOrig: number, limit: number): Float64Array {
    let stop = next;
    while (stop < limit && (ended || lastRead(stop) <= received)) stop++;
    const out = new Float64Array(Math.max(0, stop - next));
    if (plan !== null) {
      plan.compute(next, out.length, { x: buf.data.subarray(0, buf.length), base: buf.base }, nOrig, out, 0);
      next = stop;
    } else {
      for (let i = 0; next < stop; next++, i++) out[i] = resampleOne(k, buf.data, buf.base, nOrig, next);
    }
    return out;
  }

  return {
    push(chunk) {
      if (ended) throw new EarshotError('STREAM_FAILED', 'resampler received input after end()', { samples: chunk.length });
      append(chunk);
      // Any t below this bound is part of the final output whatever the stream's length.
      return drain(received, resampledLength(received, srInHz, srOutHz));
    },
    end() {
      if (ended) return new Float64Array(0);
      ended = true;
      return drain(received, resampledLength(received, srInHz, srOutHz));
    },
    get emitted() {
      return next;
    },
    engine: plan === null ? 'js' : 'wasm',
  };
}
