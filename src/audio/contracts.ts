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
}

/** A fully decoded file: mono (channels averaged), at the file's own rate. */
export interface DecodedAudio {
  readonly samples: Float32Array;
  readonly sampleRateHz: number;
  readonly channels: number;
}
