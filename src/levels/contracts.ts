/**
 * Boundary: decoded audio -> per-hop level readings and spectrogram frames (dashboard, /metrics, quiet gate).
 *
 * `LevelMeter.push` reads the chunk's samples synchronously and copies what it keeps (at most
 * one hop of audio) into its own buffer; the caller keeps ownership of the chunk. `spectrogramFrames`
 * reads a patch's log-mel rows and returns fresh, quantised copies. Nothing here blocks or allocates
 * per sample beyond one hop buffer per source: both run on the live path, inside the source's tap.
 */

/** One hop of audio, summarised with meyda (a mean over its 1024-sample frames). */
export interface LevelReading {
  readonly sourceId: string;
  /** Stream seconds at the end of the hop. */
  readonly tSeconds: number;
  /** RMS of the hop in dBFS (full scale = 1.0); digital silence is clamped to -120. */
  readonly rmsDb: number;
  /** meyda total loudness (sone-like, Zwicker bark bands). */
  readonly loudness: number;
  /** Spectral centroid in Hz. */
  readonly centroidHz: number;
  /** Spectral flatness, 0 (tonal) .. 1 (noise). */
  readonly flatness: number;
}

/** New log-mel frames of one patch, each quantised to a byte between `lo` and `hi`. */
export interface SpectrogramFrames {
  readonly sourceId: string;
  /** Stream seconds of the first new frame. */
  readonly tSeconds: number;
  readonly hopSeconds: number;
  readonly frames: number;
  readonly bands: number;
  readonly lo: number;
  readonly hi: number;
  /** frames x bands bytes, frame-major, low band first. */
  readonly data: Uint8Array;
}
