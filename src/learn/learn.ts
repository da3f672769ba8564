import type { Config } from '../config/schema.js';
import { Rng } from '../train/rng.js';
import { augment, type AugmentOptions, DEFAULT_AUGMENT } from './augment.js';
import { calibrateThreshold, DEFAULT_OFF_RATIO } from './calibrate.js';
import type { ClassThreshold, Dataset, HeadWeights } from './contracts.js';
import type { Embedder } from './embed.js';
import { applyHead, DEFAULT_HEAD, type HeadTrainOptions, trainHead } from './head.js';
import { evaluate, type LearnReport } from './report.js';
import { windowRoles } from './windows.js';

/** Background is cut into chunks of this length for the cross-validation folds. */
const BACKGROUND_CHUNK_SECONDS = 10;

export interface LearnOptions {
  readonly config: Config;
  /** Allowed false alarms per hour of background, per class. */
  readonly budgetPerHour: number;
  readonly folds: number;
  readonly seed: number;
  readonly head: HeadTrainOptions;
  readonly augment: Omit<AugmentOptions, 'rateHz'>;
  /** Lowest on-threshold a class gets whatever the background allows (sigmoid midpoint). */
  readonly thresholdFloor: number;
  /** Hops a sound must stay over threshold to be an event (every instant is in two windows). */
  readonly minHops: number;
  readonly onProgress?: (stage: string, done: number, total: number) => void;
}

export const DEFAULT_LEARN: Omit<LearnOptions, 'config'> = { budgetPerHour: 1, folds: 5, seed: 1, head: DEFAULT_HEAD, augment: DEFAULT_AUGMENT, thresholdFloor: 0.5, minHops: 2 };

/** Embedding rows with their role: class index (-1 = background), fold, and provenance. */
export interface Rows {
  x: Float32Array;
  label: Int16Array;
  fold: Int16Array;
  /** Example variant id for sound windows (example-level recall), -1 for background. */
  variant: Int32Array;
  n: number;
}

function grow(r: Rows, dim: number, need: number): void {
  if (r.n + need <= r.label.length) return;
  const cap = Math.max(r.label.length * 2, r.n + need);
  const x = new Float32Array(cap * dim);
  x.set(r.x);
  r.x = x;
  for (const k of ['label', 'fold'] as const) {
    const a = new Int16Array(cap);
    a.set(r[k]);
    r[k] = a;
  }
  const v = new Int32Array(cap);
  v.set(r.variant);
  r.variant = v;
}

function push(r: Rows, dim: number, emb: Float32Array, i: number, label: number, fold: number, variant: number): void {
  grow(r, dim, 1);
  r.x.set(emb.subarray(i * dim, (i + 1) * dim), r.n * dim);
  r.label[r.n] = label;
  r.fold[r.n] = fold;
  r.variant[r.n] = variant;
  r.n++;
}

export interface LearnOutput {
  readonly head: HeadWeights;
  readonly thresholds: Record<string, ClassThreshold>;
  readonly report: LearnReport;
}

function subset(rows: Rows, dim: number, classes: number, keep: (i: number) => boolean): { x: Float32Array; y: Uint8Array; n: number; dim: number; classes: number } {
  const idx: number[] = [];
  for (let i = 0; i < rows.n; i++) if (keep(i)) idx.push(i);
  const x = new Float32Array(idx.length * dim);
  const y = new Uint8Array(idx.length * classes);
  idx.forEach((r, k) => {
    x.set(rows.x.subarray(r * dim, (r + 1) * dim), k * dim);
    if (rows.label[r]! >= 0) y[k * classes + rows.label[r]!] = 1;
  });
  return { x, y, n: idx.length, dim, classes };
}

/** Every training window, embedded, with what calibration and the report need to trace it back. */
export interface EmbeddedSet {
  readonly rows: Rows;
  /** Row indices of each background file's hops, in stream order. */
  readonly bgRows: readonly (readonly number[])[];
  readonly variantClass: readonly number[];
  readonly variantFold: readonly number[];
  readonly backgroundSeconds: number;
  readonly folds: number;
}

export async function embedDataset(ds: Dataset, emb: Embedder, o: LearnOptions): Promise<EmbeddedSet> {
  const rng = new Rng(o.seed);
  const C = ds.classes.length;
  const dim = emb.dim;
  const minFiles = Math.min(...ds.classes.map((c) => c.recordings.length));
  const k = Math.max(1, Math.min(o.folds, minFiles));
  const rows: Rows = { x: new Float32Array(0), label: new Int16Array(0), fold: new Int16Array(0), variant: new Int32Array(0), n: 0 };
  const bgSamples = ds.background.map((b) => b.samples);
  const variantClass: number[] = [];
  const variantFold: number[] = [];
  const totalSteps = ds.classes.reduce((n, c) => n + c.recordings.length, 0) + ds.background.length;
  let step = 0;
  for (let c = 0; c < C; c++) {
    const cls = ds.classes[c]!;
    for (let j = 0; j < cls.recordings.length; j++) {
      const fold = j % k;
      for (const v of augment(cls.recordings[j]!.samples, bgSamples, rng, { ...o.augment, rateHz: emb.rateHz })) {
        const e = await emb.embed(v.samples);
        const roles = windowRoles(v.mask, e.startSeconds, emb.windowSeconds);
        const vid = variantClass.length;
        variantClass.push(c);
        variantFold.push(fold);
        roles.forEach((role, i) => {
          if (role === 'positive') push(rows, dim, e.embeddings, i, c, fold, vid);
          else if (role === 'negative') push(rows, dim, e.embeddings, i, -1, fold, -1);
        });
      }
      for (const v of augment(cls.recordings[j]!.samples, bgSamples, rng, { ...o.augment, variants: o.augment.negativeVariants, rateHz: emb.rateHz }, 'negative')) {
        const e = await emb.embed(v.samples);
        // Every window of a hard negative is background, the destroyed sound's included.
        for (let i = 0; i < e.count; i++) push(rows, dim, e.embeddings, i, -1, fold, -1);
      }
      o.onProgress?.('embed', ++step, totalSteps);
    }
  }
  // Background hops in stream order per file: calibration replays them through the segmenter.
  const bgRows: number[][] = [];
  let backgroundSeconds = 0;
  for (const b of ds.background) {
    const e = await emb.embed(b.samples);
    backgroundSeconds += b.samples.length / emb.rateHz;
    const seq: number[] = [];
    for (let i = 0; i < e.count; i++) {
      seq.push(rows.n);
      push(rows, dim, e.embeddings, i, -1, Math.floor(e.startSeconds[i]! / BACKGROUND_CHUNK_SECONDS) % k, -1);
    }
    bgRows.push(seq);
    o.onProgress?.('embed', ++step, totalSteps);
  }
  return { rows, bgRows, variantClass, variantFold, backgroundSeconds, folds: k };
}

/**
 * The whole learning job over a decoded dataset: augment + embed, k-fold cross-validation
 * (folds by recording, so no example's variants leak between train and test), thresholds
 * calibrated on out-of-fold background scores, and the final head trained on everything.
 */
export async function learnFromDataset(ds: Dataset, emb: Embedder, o: LearnOptions): Promise<LearnOutput> {
  const t0 = performance.now();
  const set = await embedDataset(ds, emb, o);
  const tEmbed = performance.now();
  return fitAndCalibrate(ds, set, emb, o, { t0, tEmbed });
}

/** Cross-validation, calibration and the final head over an embedded set. */
export function fitAndCalibrate(ds: Dataset, set: EmbeddedSet, emb: Pick<Embedder, 'dim' | 'hopSeconds'>, o: LearnOptions, times = { t0: performance.now(), tEmbed: performance.now() }): LearnOutput {
  const { rows, bgRows, variantClass, variantFold, backgroundSeconds, folds: k } = set;
  const { t0, tEmbed } = times;
  const C = ds.classes.length;
  const dim = emb.dim;
  // Out-of-fold scores: every row scored by a head that never saw its recording / chunk.
  let oof: Float32Array | undefined;
  if (k >= 2) {
    oof = new Float32Array(rows.n * C);
    for (let f = 0; f < k; f++) {
      const head = trainHead(
        subset(rows, dim, C, (i) => rows.fold[i] !== f),
        { ...o.head, seed: o.head.seed + f },
      );
      const test = subset(rows, dim, C, (i) => rows.fold[i] === f);
      const p = applyHead(head, test.x, test.n);
      let at = 0;
      for (let i = 0; i < rows.n; i++) if (rows.fold[i] === f) oof.set(p.subarray(at * C, ++at * C), i * C);
      o.onProgress?.('cross-validate', f + 1, k);
    }
  }
  const head = trainHead(
    subset(rows, dim, C, () => true),
    o.head,
  );
  const scores = oof ?? applyHead(head, rows.x, rows.n);
  const tTrain = performance.now();

  const minDurationSeconds = Math.round(emb.hopSeconds * (o.minHops - 1) * 1e6) / 1e6;
  const thresholds: Record<string, ClassThreshold> = {};
  const calibration: Array<{ backgroundThreshold: number; falseAlarmsPerHour: number }> = [];
  for (let c = 0; c < C; c++) {
    const seqs = bgRows.map((seq) => Float32Array.from(seq, (r) => scores[r * C + c]!));
    const cal = ds.background.length
      ? calibrateThreshold(seqs, backgroundSeconds, {
          events: o.config.events,
          hopSeconds: emb.hopSeconds,
          budgetPerHour: o.budgetPerHour,
          offRatio: DEFAULT_OFF_RATIO,
          minDurationSeconds,
          marginAbove: 0.05,
          floor: o.thresholdFloor,
          ceiling: 0.95,
        })
      : { threshold: o.thresholdFloor, backgroundThreshold: Number.NaN, falseAlarmsPerHour: Number.NaN };
    const on = Math.round(cal.threshold * 1e4) / 1e4;
    thresholds[ds.classes[c]!.name] = { onThreshold: on, offThreshold: Math.round(on * DEFAULT_OFF_RATIO * 1e4) / 1e4, minDurationSeconds };
    calibration.push(cal);
  }
  const report = evaluate({
    ds,
    rows,
    scores,
    classes: C,
    thresholds: ds.classes.map((c) => thresholds[c.name]!.onThreshold),
    variantClass,
    variantFold,
    folds: k,
    calibration,
    backgroundSeconds,
    budgetPerHour: o.budgetPerHour,
    timings: { embedSeconds: (tEmbed - t0) / 1000, trainSeconds: (tTrain - tEmbed) / 1000 },
  });
  return { head, thresholds, report };
}
