/**
 * Boundary: source audio (tap) -> ring buffer -> clip writer -> files + history.
 *
 * Buffers: the pipeline hands every decoded AudioChunk to the source's ClipTap
 * before the frontend; the tap copies the samples into its own ring (the chunk
 * stays owned by the pipeline, nothing is kept by reference). The ring holds
 * preRoll + margin seconds at the source's own rate and never grows.
 *
 * What may block: nothing on the live path. `push` copies into the ring and into
 * the open clips' bounded PCM queues; encoding runs in an ffmpeg child process
 * (stdin writes are async). When `clips.maxConcurrent` clips are open, a new event
 * gets no clip (earshot_clips_dropped_total{reason="busy"}).
 *
 * Times: stream seconds of the pipeline (the same clock as LabelEvent times).
 * A clip covers samples [round((start - pre) * rate), round((end + post) * rate))
 * of the stream, clamped to what the ring still held when the event started.
 */

export type ClipState = 'writing' | 'done' | 'failed';

export interface ClipRecord {
  /** `<event id>` or `<event id>.<part>` for the 2nd.. part of a split event; URL-safe. */
  readonly id: string;
  readonly eventId: string;
  /** Relative to clips.dir, e.g. `kitchen/2026-12-02/<id>.flac`. */
  readonly path: string;
  readonly state: ClipState;
  readonly startSeconds: number;
  readonly endSeconds: number | null;
  readonly sampleRateHz: number;
  readonly bytes: number;
  readonly error?: string;
}

/** Where finished/failed clips are reported (the history writer in the daemon). */
export interface ClipSink {
  clip(r: ClipRecord): void;
}
