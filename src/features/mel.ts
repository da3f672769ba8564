/**
 * VGGish's mel filterbank (mel_features.spectrogram_to_mel_matrix): HTK mel scale,
 * triangles between equally spaced mel edges, DC row zeroed. YAMNet's
 * tf.signal.linear_to_mel_weight_matrix builds the same matrix: HTK mel
 * (1127 ln(1 + f/700)), linspace edges over num_mel_bins + 2 points, triangles
 * max(0, min(lower_slope, upper_slope)) and `bands_to_zero=1` dropping the DC bin
 * (TF computes it in float32 by default, hence ~1e-7 relative differences only).
 */
import { EarshotError } from '../errors.js';

const MEL_BREAK_FREQUENCY_HERTZ = 700.0;
const MEL_HIGH_FREQUENCY_Q = 1127.0;

export function hertzToMel(hz: number): number {
  return MEL_HIGH_FREQUENCY_Q * Math.log(1.0 + hz / MEL_BREAK_FREQUENCY_HERTZ);
}

/** np.linspace(start, stop, num) with endpoint: i * step + start, last forced to stop. */
export function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const div = num - 1;
  const step = (stop - start) / div;
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  if (num > 1) out[num - 1] = stop;
  return out;
}

export interface MelSpec {
  readonly melBands: number;
  readonly spectrogramBins: number;
  readonly sampleRateHz: number;
  readonly lowerEdgeHz: number;
  readonly upperEdgeHz: number;
}

/** Dense [spectrogramBins x melBands] row-major matrix, float64, exactly as VGGish builds it. */
export function melMatrix(spec: MelSpec): Float64Array {
  const { melBands, spectrogramBins, sampleRateHz, lowerEdgeHz, upperEdgeHz } = spec;
  const nyquist = sampleRateHz / 2;
  if (lowerEdgeHz < 0 || lowerEdgeHz >= upperEdgeHz || upperEdgeHz > nyquist) {
    throw new EarshotError('CONFIG_INVALID', `mel edges must satisfy 0 <= ${lowerEdgeHz} < ${upperEdgeHz} <= ${nyquist} Hz`, {
      lowerEdgeHz,
      upperEdgeHz,
      nyquist,
    });
  }
  const binsMel = linspace(0, nyquist, spectrogramBins).map(hertzToMel);
  const edges = linspace(hertzToMel(lowerEdgeHz), hertzToMel(upperEdgeHz), melBands + 2);
  const m = new Float64Array(spectrogramBins * melBands);
  for (let b = 0; b < melBands; b++) {
    const lower = edges[b]!;
    const center = edges[b + 1]!;
    const upper = edges[b + 2]!;
    for (let k = 0; k < spectrogramBins; k++) {
      const lowerSlope = (binsMel[k]! - lower) / (center - lower);
      const upperSlope = (upper - binsMel[k]!) / (upper - center);
      m[k * melBands + b] = Math.max(0, Math.min(lowerSlope, upperSlope));
    }
  }
  for (let b = 0; b < melBands; b++) m[b] = 0;
  return m;
}

/**
 * The same matrix by band: each band's non-zero bins are one contiguous run, so a
 * frame costs ~2 multiply-adds per bin instead of bins x bands.
 */
export interface SparseMel {
  readonly bands: number;
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** weights for band b at weights[offset[b] + (k - start[b])] */
  readonly offset: Int32Array;
  readonly weights: Float64Array;
  /** lowest and one-past-highest bin any band reads */
  readonly minBin: number;
  readonly maxBin: number;
}

export function sparseMel(dense: Float64Array, spectrogramBins: number, melBands: number): SparseMel {
  const start = new Int32Array(melBands);
  const end = new Int32Array(melBands);
  const offset = new Int32Array(melBands);
  const w: number[] = [];
  let minBin = spectrogramBins;
  let maxBin = 0;
  for (let b = 0; b < melBands; b++) {
    let s = -1;
    let e = -1;
    for (let k = 0; k < spectrogramBins; k++) {
      if (dense[k * melBands + b] !== 0) {
        if (s < 0) s = k;
        e = k + 1;
      }
    }
    if (s < 0) s = e = 0;
    start[b] = s;
    end[b] = e;
    offset[b] = w.length;
    for (let k = s; k < e; k++) w.push(dense[k * melBands + b]!);
    if (e > s) {
      minBin = Math.min(minBin, s);
      maxBin = Math.max(maxBin, e);
    }
  }
  return { bands: melBands, start, end, offset, weights: Float64Array.from(w), minBin, maxBin: Math.max(minBin, maxBin) };
}
