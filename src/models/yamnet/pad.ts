import type { FrontendConfig } from '../../config/sections/frontend.js';

/**
 * yamnet.py `pad_waveform`, for whole files (`earshot tag`), not for streams.
 *
 * The log-mel frontend only emits a patch once it has `patchFrames` full STFT
 * frames, i.e. patchFrames * hop + (window - hop) seconds (0.975 s for YAMNet).
 * Google's YAMNet zero-pads its waveform so that (a) a clip shorter than that
 * still yields one patch instead of nothing, and (b) the tail after the first
 * patch is rounded up to a whole number of patch hops, so the last partial hop
 * is scored too. Doing the same here makes `earshot tag` return the same
 * number of frames as YAMNet. The VGGish frontend deliberately does not pad
 * (VGGish drops partial patches), so this lives with YAMNet, and the daemon's
 * streaming path never pads: it just waits for more audio.
 *
 * Works at any rate: the sample counts are computed at `sampleRateHz` from the
 * frontend's durations (rounded up, so resampling never loses the last frame).
 */
type PadConfig = Pick<FrontendConfig, 'patchFrames' | 'stftHopSeconds' | 'stftWindowSeconds' | 'patchHopSeconds'>;

/** Length in samples after YAMNet's padding of `length` samples (streamed tagging pads by this count). */
export function yamnetPaddedLength(length: number, sampleRateHz: number, fe: PadConfig): number {
  const patchWindowSeconds = fe.patchFrames * fe.stftHopSeconds;
  const minSamples = Math.ceil((patchWindowSeconds + fe.stftWindowSeconds - fe.stftHopSeconds) * sampleRateHz - 1e-6);
  const hopSamples = Math.round(fe.patchHopSeconds * sampleRateHz);
  const n = Math.max(length, minSamples);
  const hops = Math.ceil((n - minSamples) / hopSamples);
  return minSamples + hops * hopSamples;
}

export function padWaveformForYamnet<T extends Float32Array | Float64Array>(samples: T, sampleRateHz: number, fe: PadConfig): T {
  const total = yamnetPaddedLength(samples.length, sampleRateHz, fe);
  if (total === samples.length) return samples;
  const out = (samples instanceof Float64Array ? new Float64Array(total) : new Float32Array(total)) as T;
  out.set(samples);
  return out;
}
