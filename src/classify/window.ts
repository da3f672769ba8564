/**
 * Streaming side of the classifier: a per-session rolling window of the last T quantized
 * (PCA + 8-bit, as VGGish postprocess emits) embeddings, scored as one clip per hop.
 *
 * Padding rule (same as training, src/train/datasets/pack.ts, Kong's pad_trunc_seq): while
 * fewer than T embeddings have arrived, the window holds them oldest-first at the start and
 * trailing rows of uint8 0, which dequantize to -1.0. Once full, the oldest row drops out.
 */
import { EarshotError } from '../errors.js';
import type { ClassifierHead } from './contracts.js';
import { dequantize } from './dequantize.js';

export class EmbeddingWindow {
  private readonly rows: Uint8Array[] = [];

  constructor(
    readonly timeSteps: number,
    readonly dim: number,
  ) {}

  get size(): number {
    return this.rows.length;
  }

  /** Adds one quantized embedding (values 0..255). */
  push(embedding: ArrayLike<number>): void {
    if (embedding.length !== this.dim) throw new EarshotError('MODEL_SHAPE_MISMATCH', `embedding has ${embedding.length} values, the classifier expects ${this.dim}`);
    const row = new Uint8Array(this.dim);
    for (let i = 0; i < this.dim; i++) {
      const v = embedding[i]!;
      if (!(v >= 0 && v <= 255)) throw new EarshotError('INPUT_INVALID', `embedding value ${v} at ${i} is not a quantized uint8 (0..255)`);
      row[i] = Math.round(v);
    }
    this.rows.push(row);
    if (this.rows.length > this.timeSteps) this.rows.shift();
  }

  /** Dequantized [1, T, D] input, (q - 128) / 128, zero-padded (uint8) at the end. */
  input(): Float32Array {
    const out = new Float32Array(this.timeSteps * this.dim).fill(-1);
    this.rows.forEach((r, t) => dequantize(r, out.subarray(t * this.dim, (t + 1) * this.dim)));
    return out;
  }
}

export interface ClassifierSession {
  /** Adds one embedding and scores the window; resolves [classes] probabilities. */
  score(embedding: ArrayLike<number>): Promise<Float32Array>;
}

export function classifierSession(head: ClassifierHead): ClassifierSession {
  const w = new EmbeddingWindow(head.timeSteps, head.embeddingDim);
  return {
    async score(embedding) {
      w.push(embedding);
      return head.predict(w.input(), 1);
    },
  };
}
