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

/**
 * Files: `<clips.dir>/<id>.flac|.opus` (written as `<id>.<ext>.part`, renamed when
 * ffmpeg exits cleanly), `<id>.json` (sidecar: event + the label's scores over the
 * clip), `<id>.png` (spectrogram, drawn after the clip is recorded). History holds a
 * row per clip (`ClipRecord` in src/history/contracts.ts, migration 2) that goes
 * writing -> done | failed; after a crash, `.part` files are removed at start and
 * their rows marked failed, so a `done` row always has a complete file.
 */
export type { ClipRecord } from '../history/contracts.js';

/**
 * Off the live path (async file I/O, one at a time): the retention sweeper
 * (retention.ts; indexes finished clips only, so a clip being written is never
 * deleted; deleted rows become `deleted`), the uploader (upload.ts; clips.storageUrl:
 * clips.dir is the spool, bounded by clips.spoolMaxBytes checked when a clip opens)
 * and crash recovery at start (manager.recover; reconciles rows and files).
 * privacy.dropSpeech (privacy.ts) is a per-frame test the source's clip tap and
 * history recorder apply synchronously.
 */
