/**
 * Boundary: datasets -> trainer/evaluator.
 *
 * A Clip carries quantized uint8 embeddings [seconds, 128] exactly as stored and
 * its label indices; dequantization and padding to 10 s happen in one place
 * (src/train/data) for training, eval and the daemon alike. Readers stream clips;
 * nothing holds a whole split unless the caller collects it.
 */
export interface Clip {
  readonly videoId: string;
  readonly startSeconds: number;
  readonly labels: readonly number[];
  /** uint8 [seconds, 128], row-major. */
  readonly embeddings: Uint8Array;
  readonly seconds: number;
}
