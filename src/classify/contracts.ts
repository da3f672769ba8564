/**
 * Boundary: embeddings -> classifier head.
 *
 * Input: dequantized AudioSet embeddings, float32 [clips, 10, 128] row-major,
 * (q - 128) / 128 as in the seed; shorter windows are padded as documented in
 * src/train/README. Output: a fresh Float32Array [clips, classes] of
 * probabilities the caller owns. The head frees every tensor it creates per call.
 * The same head object serves the daemon (1 clip per hop) and batch eval.
 */
export interface ClassifierHead {
  readonly modelType: string;
  readonly classes: number;
  readonly timeSteps: number;
  readonly embeddingDim: number;
  predict(embeddings: Float32Array, clips: number): Promise<Float32Array>;
  dispose(): void;
}

export interface LabelInfo {
  readonly index: number;
  /** Ontology id, e.g. /m/09x0r. */
  readonly id: string;
  readonly name: string;
}
