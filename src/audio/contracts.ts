/**
 * Boundary: audio sources -> frontend.
 *
 * A source is an RxJS Observable<AudioChunk>. Ownership of `samples` passes to the
 * subscriber on emission: the source never writes to an emitted buffer again.
 * Timestamps are sample-accurate: chunk k starts at sample `startSample`
 * (counted at `sampleRateHz` from the start of the stream), so
 * startSeconds = startSample / sampleRateHz with no drift.
 * Failures are delivered as EarshotError on the Observable's error channel,
 * never thrown from callbacks or left as unhandled events.
 */
export interface AudioChunk {
  /** Mono float32 in [-1, 1). int16 PCM is scaled by 1/32768 (VGGish parity). */
  readonly samples: Float32Array;
  readonly sampleRateHz: number;
  readonly startSample: number;
  /** NaN/±Inf samples the decoder zeroed, reported once on the first chunk of a decoded file (earshot_nonfinite_samples_total). */
  readonly nonFiniteSamples?: number;
}

/** A fully decoded file: mono (channels averaged), at the file's own rate. */
export interface DecodedAudio {
  readonly samples: Float32Array;
  readonly sampleRateHz: number;
  readonly channels: number;
  /** Samples (before the mono mix) that were NaN or ±Inf and were zeroed; absent = none. */
  readonly nonFiniteSamples?: number;
}

/**
 * Sample rates a file may declare. Outside this range a header is taken as corrupt:
 * a 1 Hz header would make the resampler expand every second of data 16,000-fold.
 */
export const MIN_SAMPLE_RATE_HZ = 1000;
export const MAX_SAMPLE_RATE_HZ = 768_000;
