/**
 * VGGish's log-mel spectrogram (mel_features.log_mel_spectrogram): frames of
 * round(sr * stftWindowSeconds) samples every round(sr * stftHopSeconds) with no
 * padding, periodic Hann window, |rfft| at the next power of two, mel matrix,
 * log(mel + logOffset).
 *
 * Matches the numpy reference bit for bit on the golden files (float32 output).
 * Frames run through the f64x2 WebAssembly kernel (logmel-wasm.ts) where it applies,
 * else through the TypeScript below; both perform the same float64 operations in the
 * same order, so the engine never changes a value.
 *
 * meyda is not used: its mel filterbank is not VGGish's HTK matrix with the DC row
 * zeroed, it works in float32 and allocates per frame, and a frame here must be
 * bit-identical between batch and streaming use and against the numpy reference.
 */
import type { FrontendConfig } from '../config/sections/frontend.js';
import { EarshotError } from '../errors.js';
import { createMagnitudeFft } from './fft.js';
import { createWasmFrames } from './logmel-wasm.js';
import { hertzToMel, linspace, melMatrix } from './mel.js';

export interface LogMelFrontend {
  readonly sampleRateHz: number;
  readonly windowSamples: number;
  readonly hopSamples: number;
  readonly fftLength: number;
  readonly bands: number;
  /** Which implementation computes the frames (bit-identical results). */
  readonly engine: 'wasm' | 'js';
  /**
   * Writes `count` log-mel frames (bands float32 each) to out[outOffset..]; frame f
   * is the window starting at x[offset + f * hopSamples]. The caller guarantees the
   * samples exist.
   */
  computeFrames(x: Float64Array, offset: number, count: number, out: Float32Array, outOffset: number): void;
}

/** mel_features.frame: 1 + floor((n - window) / hop) frames, none if shorter than a window. */
export function frameCount(nSamples: number, windowLength: number, hopLength: number): number {
  if (nSamples < windowLength) return 0;
  return 1 + Math.floor((nSamples - windowLength) / hopLength);
}

/** mel_features.periodic_hann: 0.5 - 0.5 cos(2 pi / N * n). */
export function periodicHann(length: number): Float64Array {
  const w = new Float64Array(length);
  const c = (2 * Math.PI) / length;
  for (let i = 0; i < length; i++) w[i] = 0.5 - 0.5 * Math.cos(c * i);
  return w;
}

export interface LogMelOptions {
  /** 'auto' (default) uses the WebAssembly kernel where it applies; 'js' forces TypeScript. Same output either way. */
  readonly engine?: 'auto' | 'js';
}

export function createLogMelFrontend(cfg: FrontendConfig, opts: LogMelOptions = {}): LogMelFrontend {
  const sr = cfg.sampleRateHz;
  const windowSamples = Math.round(sr * cfg.stftWindowSeconds);
  const hopSamples = Math.round(sr * cfg.stftHopSeconds);
  if (windowSamples < 2 || hopSamples < 1) {
    throw new EarshotError('CONFIG_INVALID', `frontend window ${windowSamples} / hop ${hopSamples} samples too small at ${sr} Hz`, {
      stftWindowSeconds: cfg.stftWindowSeconds,
      stftHopSeconds: cfg.stftHopSeconds,
    });
  }
  const fftLength = 2 ** Math.ceil(Math.log2(windowSamples));
  const bins = fftLength / 2 + 1;
  const bands = cfg.melBands;
  const dense = melMatrix({ melBands: bands, spectrogramBins: bins, sampleRateHz: sr, lowerEdgeHz: cfg.melMinHz, upperEdgeHz: cfg.melMaxHz });
  // Bins between the mel edges e_s and e_{s+1} form segment s: they feed band s on its
  // rising slope and band s - 1 on its falling slope (triangles overlap by exactly one
  // segment), so each segment is summed in two register accumulators and band b is
  // rise[b] + fall[b + 1]. Weights are the VGGish matrix entries themselves.
  const edges = linspace(hertzToMel(cfg.melMinHz), hertzToMel(cfg.melMaxHz), bands + 2);
  const segStart = new Int32Array(bands + 1);
  const segEnd = new Int32Array(bands + 1);
  const wRise = new Float64Array(bins);
  const wFall = new Float64Array(bins);
  const binsMel = linspace(0, sr / 2, bins).map(hertzToMel);
  let k = 0;
  for (let sIdx = 0; sIdx <= bands; sIdx++) {
    while (k < bins && binsMel[k]! < edges[sIdx]!) k++;
    segStart[sIdx] = k;
    while (k < bins && binsMel[k]! < edges[sIdx + 1]!) {
      wRise[k] = sIdx < bands ? dense[k * bands + sIdx]! : 0;
      wFall[k] = sIdx > 0 ? dense[k * bands + sIdx - 1]! : 0;
      k++;
    }
    segEnd[sIdx] = k;
  }
  checkSegments(dense, bins, bands, segStart, segEnd, wRise, wFall);
  const rise = new Float64Array(bands + 1);
  const fall = new Float64Array(bands + 1);
  const fft = createMagnitudeFft(periodicHann(windowSamples), fftLength);
  const mag = new Float64Array(bins);
  const logOffset = cfg.logOffset;

  const tables = { segStart, segEnd, wRise, wFall, rise, fall, mag };

  function computeFramesJs(x: Float64Array, offset: number, count: number, out: Float32Array, outOffset: number): void {
    // Locals, not closure slots, so the JIT can keep them in registers across the loops.
    const { segStart, segEnd, wRise, wFall, rise, fall, mag } = tables;
    for (let f = 0; f < count; f++) {
      fft.magnitudes(x, offset + f * hopSamples, mag);
      for (let sIdx = 0; sIdx <= bands; sIdx++) {
        let r = 0;
        let fl = 0;
        for (let k = segStart[sIdx]!, e = segEnd[sIdx]!; k < e; k++) {
          const v = mag[k]!;
          r += wRise[k]! * v;
          fl += wFall[k]! * v;
        }
        rise[sIdx] = r;
        fall[sIdx] = fl;
      }
      const o = outOffset + f * bands;
      for (let b = 0; b < bands; b++) out[o + b] = Math.log(rise[b]! + fall[b + 1]! + logOffset);
    }
  }

  const wasm = opts.engine === 'js' ? null : createWasmFrames(fft, hopSamples, { bands, bins, segStart, segEnd, wRise, wFall, logOffset });
  return {
    sampleRateHz: sr,
    windowSamples,
    hopSamples,
    fftLength,
    bands,
    engine: wasm === null ? 'js' : 'wasm',
    computeFrames: wasm ?? computeFramesJs,
  };
}

/** The segment layout must reproduce the dense matrix exactly: every non-zero weight used once. */
function checkSegments(dense: Float64Array, bins: number, bands: number, segStart: Int32Array, segEnd: Int32Array, wRise: Float64Array, wFall: Float64Array): void {
  const rebuilt = new Float64Array(dense.length);
  for (let s = 0; s <= bands; s++) {
    for (let k = segStart[s]!; k < segEnd[s]!; k++) {
      if (s < bands) rebuilt[k * bands + s] = wRise[k]!;
      if (s > 0) rebuilt[k * bands + s - 1] = wFall[k]!;
    }
  }
  for (let i = 0; i < dense.length; i++) {
    if (rebuilt[i] !== dense[i]) {
      throw new EarshotError('INTERNAL', `mel segment layout misses weight at bin ${Math.floor(i / bands)}, band ${i % bands}`, { bins, bands });
    }
  }
}
