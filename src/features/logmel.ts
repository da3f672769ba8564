/**
 * VGGish's log-mel spectrogram (mel_features.log_mel_spectrogram): frames of
 * round(sr * stftWindowSeconds) samples every round(sr * stftHopSeconds) with no
 * padding, periodic Hann window, |rfft| at the next power of two, mel matrix,
 * log(mel + logOffset).
 *
 * meyda is not used: its mel filterbank is not VGGish's HTK matrix with the DC row
 * zeroed, it works in float32 and allocates per frame, and a frame here must be
 * bit-identical between batch and streaming use; this file is ~100 lines of float64.
 */
import type { FrontendConfig } from '../config/sections/frontend.js';
import { EarshotError } from '../errors.js';
import { createMagnitudeFft } from './fft.js';
import { melMatrix, sparseMel } from './mel.js';

export interface LogMelFrontend {
  readonly sampleRateHz: number;
  readonly windowSamples: number;
  readonly hopSamples: number;
  readonly fftLength: number;
  readonly bands: number;
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

export function createLogMelFrontend(cfg: FrontendConfig): LogMelFrontend {
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
  const mel = sparseMel(
    melMatrix({ melBands: bands, spectrogramBins: bins, sampleRateHz: sr, lowerEdgeHz: cfg.melMinHz, upperEdgeHz: cfg.melMaxHz }),
    bins,
    bands,
  );
  const fft = createMagnitudeFft(periodicHann(windowSamples), fftLength);
  const { minBin, maxBin } = mel;
  // Per bin, the (at most two, adjacent) bands it feeds; a bin feeding one band sends a
  // zero weight to the spare accumulator `bands`. Each band still sums its bins in
  // ascending order from 0, exactly like the per-band sparse dot product.
  const bandA = new Int32Array(bins).fill(bands);
  const bandB = new Int32Array(bins).fill(bands);
  const wA = new Float64Array(bins);
  const wB = new Float64Array(bins);
  for (let b = 0; b < bands; b++) {
    for (let k = mel.start[b]!; k < mel.end[b]!; k++) {
      const w = mel.weights[mel.offset[b]! + k - mel.start[b]!]!;
      if (bandA[k] === bands) {
        bandA[k] = b;
        wA[k] = w;
      } else if (bandB[k] === bands) {
        bandB[k] = b;
        wB[k] = w;
      } else {
        throw new EarshotError('INTERNAL', `mel bin ${k} feeds more than two bands`, { bin: k });
      }
    }
  }
  const acc = new Float64Array(bands + 1);
  const { re, im, rev, splitRe, splitIm } = fft;
  const half = fftLength / 2;
  const logOffset = cfg.logOffset;

  function computeFrames(x: Float64Array, offset: number, count: number, out: Float32Array, outOffset: number): void {
    for (let f = 0; f < count; f++) {
      fft.forward(x, offset + f * hopSamples);
      acc.fill(0);
      // Real-FFT split fused with the mel sum: |X[k]| goes straight into its bands.
      for (let k = minBin; k < maxBin; k++) {
        const k1 = rev[k === half ? 0 : k]!;
        const k2 = rev[k === 0 ? 0 : half - k]!;
        const a = re[k1]!, b = im[k1]!, c = re[k2]!, d = im[k2]!;
        const er = 0.5 * (a + c);
        const ei = 0.5 * (b - d);
        const or = 0.5 * (b + d);
        const oi = -0.5 * (a - c);
        const wr = splitRe[k]!;
        const wi = splitIm[k]!;
        const xr = er + wr * or - wi * oi;
        const xi = ei + wr * oi + wi * or;
        const mag = Math.sqrt(xr * xr + xi * xi);
        acc[bandA[k]!] += wA[k]! * mag;
        acc[bandB[k]!] += wB[k]! * mag;
      }
      const o = outOffset + f * bands;
      for (let b = 0; b < bands; b++) out[o + b] = Math.log(acc[b]! + logOffset);
    }
  }

  return { sampleRateHz: sr, windowSamples, hopSamples, fftLength, bands, computeFrames };
}
