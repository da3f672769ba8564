import { EarshotError } from '../errors.js';
import { createMagnitudeFft } from './fft.js';

/**
 * The log-mel frontend of EfficientAT (Schmid et al., `AugmentMelSTFT` in eval mode):
 * pre-emphasis [-0.97, 1] (one sample shorter), a centred STFT with reflect padding,
 * a symmetric Hann window shorter than the FFT (zero-padded on both sides, as torch.stft
 * does), power spectrum, Kaldi-style triangular mel banks (torchaudio.compliance.kaldi
 * .get_mel_banks, an extra zero column for the Nyquist bin), log(x + offset), then
 * (x + shift) / scale. Shares the project's FFT; float64 throughout, float32 out.
 */
export interface KaldiMelParams {
  readonly sampleRateHz: number;
  readonly fftLength: number;
  readonly windowLength: number;
  readonly hopLength: number;
  readonly melBands: number;
  readonly fminHz: number;
  readonly fmaxHz: number;
  readonly preemphasis: number;
  readonly logOffset: number;
  readonly shift: number;
  readonly scale: number;
}

export const EFFICIENTAT_MEL: KaldiMelParams = {
  sampleRateHz: 32000,
  fftLength: 1024,
  windowLength: 800,
  hopLength: 320,
  melBands: 128,
  fminHz: 0,
  fmaxHz: 15000,
  preemphasis: 0.97,
  logOffset: 1e-5,
  shift: 4.5,
  scale: 5,
};

const kaldiMel = (hz: number): number => 1127 * Math.log(1 + hz / 700);

/** torchaudio's get_mel_banks (vtln_warp_factor 1): [bands, fftLength/2] triangles on the Kaldi mel scale. */
export function kaldiMelBanks(bands: number, fftLength: number, sampleRateHz: number, fminHz: number, fmaxHz: number): Float64Array[] {
  if (bands <= 3) throw new EarshotError('CONFIG_INVALID', `Kaldi mel banks need more than 3 bands, got ${bands}`, { bands });
  const nyquist = sampleRateHz / 2;
  const high = fmaxHz <= 0 ? fmaxHz + nyquist : fmaxHz;
  if (!(fminHz >= 0 && fminHz < high && high <= nyquist)) throw new EarshotError('CONFIG_INVALID', `mel range ${fminHz}-${high} Hz must lie within 0-${nyquist} Hz`, { fminHz, fmaxHz });
  const bins = fftLength / 2;
  const lo = kaldiMel(fminHz);
  const delta = (kaldiMel(high) - lo) / (bands + 1);
  const out: Float64Array[] = [];
  for (let b = 0; b < bands; b++) {
    const left = lo + b * delta;
    const center = lo + (b + 1) * delta;
    const right = lo + (b + 2) * delta;
    const row = new Float64Array(bins);
    for (let k = 0; k < bins; k++) {
      const m = kaldiMel((sampleRateHz / fftLength) * k);
      row[k] = Math.max(0, Math.min((m - left) / (center - left), (right - m) / (right - center)));
    }
    out.push(row);
  }
  return out;
}

/** torch.hann_window(n, periodic=False). */
export function symmetricHann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
  return w;
}

/** Frames of the centred STFT after pre-emphasis: 1 + floor((n - 1) / hop). */
export function kaldiMelFrames(samples: number, p: KaldiMelParams): number {
  return samples < 2 ? 0 : 1 + Math.floor((samples - 1) / p.hopLength);
}

export interface KaldiMelFrontend {
  readonly params: KaldiMelParams;
  /** [melBands, frames] row-major (frequency-major, as the model's [1, 128, T] input). */
  compute(samples: Float32Array | Float64Array): { data: Float32Array; frames: number };
}

export function createKaldiMelFrontend(p: KaldiMelParams = EFFICIENTAT_MEL): KaldiMelFrontend {
  if (p.windowLength > p.fftLength) throw new EarshotError('CONFIG_INVALID', `window ${p.windowLength} is longer than the FFT (${p.fftLength})`, { windowLength: p.windowLength });
  const fft = createMagnitudeFft(symmetricHann(p.windowLength), p.fftLength);
  const banks = kaldiMelBanks(p.melBands, p.fftLength, p.sampleRateHz, p.fminHz, p.fmaxHz);
  // Only the non-zero span of each triangle is summed.
  const spans = banks.map((row) => {
    let a = row.findIndex((v) => v > 0);
    if (a < 0) a = 0;
    let b = row.length;
    while (b > a && row[b - 1] === 0) b--;
    return [a, b] as const;
  });
  const half = p.fftLength / 2;
  const winOffset = Math.floor((p.fftLength - p.windowLength) / 2);
  const mag = new Float64Array(half + 1);
  const power = new Float64Array(half + 1);
  return {
    params: p,
    compute(x) {
      const n = x.length - 1;
      const frames = kaldiMelFrames(x.length, p);
      const out = new Float32Array(p.melBands * frames);
      if (frames === 0) return { data: out, frames };
      // Pre-emphasis, then reflect padding by fftLength/2 on both sides (torch.stft center=True).
      const pad = half;
      const padded = new Float64Array(n + 2 * pad);
      const reflect = (i: number): number => {
        // Mirror repeatedly so even signals shorter than the pad are defined (torch refuses those).
        const period = 2 * (n - 1);
        if (period <= 0) return 0;
        let j = ((i % period) + period) % period;
        if (j >= n) j = period - j;
        return j;
      };
      const pre = new Float64Array(n);
      for (let i = 0; i < n; i++) pre[i] = x[i + 1]! - p.preemphasis * x[i]!;
      for (let i = 0; i < padded.length; i++) padded[i] = pre[reflect(i - pad)]!;
      for (let t = 0; t < frames; t++) {
        // The window sits centred in the FFT frame; a shift only changes phase, so the frame
        // is read from the window's first sample and zero-padded after it.
        fft.magnitudes(padded, t * p.hopLength + winOffset, mag);
        for (let k = 0; k <= half; k++) power[k] = mag[k]! * mag[k]!;
        for (let m = 0; m < p.melBands; m++) {
          const row = banks[m]!;
          const [a, b] = spans[m]!;
          let s = 0;
          for (let k = a; k < b; k++) s += row[k]! * power[k]!;
          out[m * frames + t] = (Math.log(s + p.logOffset) + p.shift) / p.scale;
        }
      }
      return { data: out, frames };
    },
  };
}
