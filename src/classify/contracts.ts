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
  /**
   * Event thresholds the label's model calibrated for it (custom labels, `earshot learn`);
   * they replace the global events.* values, and config events.labels overrides still win.
   */
  readonly defaults?: { readonly onThreshold: number; readonly offThreshold: number; readonly minDurationSeconds: number };
  /**
   * The model's calibrated onThreshold for this label (thresholds.json, F1-optimal on its
   * validation split), used by events where the config sets none for the label.
   */
  readonly threshold?: number;
}

/**
 * What the daemon and `earshot tag` run: patches in, per-label scores out.
 * YAMNet scores each patch directly; VGGish+classifier embeds each patch and
 * scores the rolling window of the last 10 embeddings (state lives in the session,
 * one session per audio stream). `tag` resolves a fresh Float32Array [labels.length]
 * the caller owns.
 */
import type { OperatorFunction } from 'rxjs';

import type { AudioChunk } from '../audio/contracts.js';
import type { FrontendConfig } from '../config/sections/frontend.js';
import type { Patch } from '../features/contracts.js';

export interface TaggerSession {
  tag(patch: Patch): Promise<Float32Array>;
  /**
   * Scores plus the patch's embedding (YAMNet: 1024-d; VGGish: the 128-d post-processed
   * one, dequantized), both fresh arrays the caller owns. History stores the embedding.
   */
  tagWithEmbedding?(patch: Patch): Promise<{ scores: Float32Array; embedding: Float32Array }>;
}

export interface Tagger {
  readonly name: string;
  readonly labels: readonly LabelInfo[];
  /** Frontend settings the tagger needs (e.g. YAMNet: logOffset 0.001, patchHopSeconds 0.48). */
  readonly frontend: Partial<FrontendConfig>;
  /** Engine/backend in use, for status messages, e.g. 'onnx/cpu'. */
  readonly backend: string;
  /**
   * The tagger's own frontend when its input is not VGGish log-mel patches (EfficientAT:
   * one window of recent context per hop); the pipeline uses it instead of its default.
   */
  readonly patches?: (fe: FrontendConfig) => OperatorFunction<AudioChunk, Patch>;
  openSession(): TaggerSession;
  dispose(): Promise<void>;
}
