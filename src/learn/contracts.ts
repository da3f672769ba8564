/**
 * Boundary: a folder of example recordings -> a custom model directory (few-shot labels).
 *
 * `earshot learn` reads DIR/<class>/* and DIR/background/*, finds the windows that hold
 * each sound, augments them, embeds everything with the frozen base model (YAMNet: one
 * 1024-d embedding per 0.96 s window every 0.48 s, the daemon's hop), trains a small
 * head (one-vs-rest logistic regression, optionally one hidden layer) and calibrates a
 * per-class threshold to a false-alarm budget on the background.
 *
 * Ownership: every Float32Array returned here is fresh and owned by the caller. Learning
 * is a batch job (it blocks its process for seconds); nothing here runs on the daemon's
 * live path except `applyHead` (a [1024 x classes] matmul per hop, no allocation beyond
 * the output row) through custom-tagger.ts.
 */

/** One decoded recording at the base model's rate (16 kHz mono). */
export interface Recording {
  readonly path: string;
  readonly samples: Float32Array;
}

export interface DatasetClass {
  readonly name: string;
  readonly dir: string;
  readonly recordings: readonly Recording[];
}

export interface Dataset {
  readonly dir: string;
  readonly classes: readonly DatasetClass[];
  readonly background: readonly Recording[];
  /** Files that could not be decoded: skipped, and named in the report. */
  readonly skipped: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
}

/** Head weights over standardised embeddings: z = (x - mean) / std; hidden layer optional. */
export interface HeadWeights {
  readonly inputDim: number;
  readonly classes: number;
  readonly mean: Float32Array;
  readonly std: Float32Array;
  /** 0 = logistic regression (w1 [inputDim, classes]); else w1 [inputDim, hidden] relu, w2 [hidden, classes]. */
  readonly hidden: number;
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  readonly w2?: Float32Array;
  readonly b2?: Float32Array;
}

export interface ClassThreshold {
  readonly onThreshold: number;
  readonly offThreshold: number;
  readonly minDurationSeconds: number;
}

/** manifest.json of a custom model directory. */
export interface CustomModelManifest {
  readonly format: 'earshot-custom-model';
  readonly formatVersion: 1;
  readonly name: string;
  readonly architecture: 'custom-head';
  /** The frozen embedding model the head was trained on; the daemon checks the source's tagger is the same. */
  readonly base: { readonly dir: string; readonly architecture: string; readonly name: string; readonly weightsSha256: string; readonly embeddingDim: number };
  readonly labels: ReadonlyArray<{ readonly id: string; readonly name: string }>;
  /** Keyed by label name. */
  readonly thresholds: Readonly<Record<string, ClassThreshold>>;
  readonly falseAlarmsPerHour: number;
  readonly head: { readonly file: 'head.json'; readonly hidden: number };
  /** The data folder it was trained from (`learn --update` retrains from it). */
  readonly data: { readonly dir: string; readonly files: number; readonly backgroundSeconds: number };
  readonly trainedAt: string;
}
