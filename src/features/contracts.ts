/**
 * Boundary: frontend -> embedding model.
 *
 * A Patch is one example of `patchFrames` x `melBands` log-mel values, row-major
 * (frame-major), float32. The frontend allocates a fresh buffer per patch and
 * hands ownership to the consumer; it keeps no reference.
 * `startSeconds` is the time of the patch's first sample in the source stream
 * (at the source rate, before resampling), so labels map back to stream time.
 *
 * Resampler: `resample` and every streaming resampler return fresh Float64Arrays the
 * caller owns, and copy what they keep of their input. The WebAssembly path's memory
 * (phase table + staging) is shared by all resamplers of one rate pair in a thread; each
 * call stages, runs and copies out synchronously, so nothing is left in it between calls.
 * Nothing here blocks on I/O.
 */
export interface Patch {
  readonly data: Float32Array;
  readonly index: number;
  readonly startSeconds: number;
  readonly frames: number;
  readonly bands: number;
}
