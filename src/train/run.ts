/**
 * Stage entry points behind `earshot train|eval|predict`: data in from Storage, model
 * directories out. The CLI only parses flags and prints.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { Blas } from '../classify/blas.js';
import type { LabelInfo } from '../classify/contracts.js';
import { createHead } from '../classify/head.js';
import type { NetSpec } from '../classify/net.js';
import { saveClassifier } from '../classify/store.js';
import { EarshotError } from '../errors.js';
import type { Storage } from '../storage/contracts.js';
import type { HistoryPoint, TrainState } from './checkpoint.js';
import { dequantize } from './data.js';
import { type DataRef, dataRef } from './data-ref.js';
import { loadClips, type ReadProgress } from './datasets/index.js';
import { evaluate } from './metrics.js';
import { type SplitFigures, trainingCurveSvg } from './report.js';
import { stratifiedHoldOut, takeRows } from './split.js';
import { f1Thresholds } from './thresholds.js';
import { type Dataset, train, type TrainOptions } from './trainer.js';

export interface LoadedSplit extends Dataset {
  readonly videoIds: string[];
  /** Where it was read from on this machine (logs only; never written into a model). */
  readonly source: string;
  /** How models and reports name it: relative path and content hash. */
  readonly ref: DataRef;
}

export async function loadSplit(storage: Storage, timeSteps: number, classes: number, onProgress?: (p: ReadProgress) => void): Promise<LoadedSplit> {
  const p = await loadClips(storage, { timeSteps, numClasses: classes, ...(onProgress ? { onProgress } : {}) });
  if (p.count === 0) throw new EarshotError('DATA_NOT_FOUND', `no AudioSet clips (*.tfrecord) under ${storage.url}`, { url: storage.url });
  return { count: p.count, x: p.x, y: p.y, videoIds: p.videoIds, source: storage.url, ref: dataRef(storage.url, p) };
}

export interface HeldOut {
  train: LoadedSplit;
  val: LoadedSplit;
  /** Provenance of the split: enough to rebuild it from the data alone. */
  split: { from: DataRef; fraction: number; seed: number; method: string; trainClips: number; validationClips: number; validationIdsSha256: string };
}

/** Stratified hold-out of `fraction` of `d` per label (src/train/split.ts), seeded. */
export function holdOut(d: LoadedSplit, classes: number, fraction: number, seed: number): HeldOut {
  const { train, val } = stratifiedHoldOut(d.y, d.count, classes, fraction, seed);
  const part = (idx: Int32Array, name: string): LoadedSplit => {
    const r = takeRows(d, idx);
    return { ...r, source: `${d.source} (${name})`, ref: { ...dataRef(d.ref.path, r), path: `${d.ref.path}#${name}` } };
  };
  const t = part(train, 'train');
  const v = part(val, 'validation');
  return {
    train: t,
    val: v,
    split: { from: d.ref, fraction, seed, method: 'stratified per label, rarest label first (src/train/split.ts)', trainClips: t.count, validationClips: v.count, validationIdsSha256: v.ref.sha256 },
  };
}

export interface TrainRunOptions extends Omit<TrainOptions, 'val'> {
  data: LoadedSplit;
  val?: LoadedSplit;
  labels: readonly LabelInfo[];
  labelsSource: string;
  /** Set when `val` was held out of the training data. */
  split?: HeldOut['split'];
  /** Where the finished model directory goes. */
  out: { local: string } | { storage: Storage };
}

export function positivesPerClass(y: Uint8Array, count: number, classes: number): number[] {
  const out = new Array<number>(classes).fill(0);
  for (let i = 0; i < count; i++) for (let k = 0; k < classes; k++) if (y[i * classes + k]) out[k]!++;
  return out;
}

function provenance(o: TrainRunOptions, st: TrainState, seconds: number, startIteration: number): Record<string, unknown> {
  return {
    kind: 'trained with earshot train',
    paper: 'Kong et al. 2017 (arXiv:1711.00927), Yu et al. 2018 (arXiv:1803.02353); seed code qiuqiangkong/audioset_classification',
    data: {
      dataset: o.data.ref.dataset,
      licence: 'CC BY 4.0',
      train: o.data.ref,
      labels: o.labelsSource,
      ...(o.val ? { validation: o.val.ref } : {}),
      ...(o.split ? { split: o.split } : {}),
    },
    training: {
      modelType: o.spec.modelType,
      hidden: o.spec.hidden,
      dropout: o.dropout,
      batchSize: o.batchSize,
      learningRate: o.learningRate,
      lrSchedule: o.lrSchedule ?? 'constant',
      mixupAlpha: o.mixupAlpha ?? 0,
      emaDecay: o.emaDecay ?? 0,
      optimizer: 'Adam (Keras 2.2: beta1 0.9, beta2 0.999, epsilon 1e-7)',
      loss: 'binary cross-entropy (Keras, clipped 1e-7)',
      balance: o.balance,
      seed: o.seed,
      iterations: st.iteration,
      // A resumed run only knows its own wall time; earlier invocations are in their logs.
      resumedFromIteration: startIteration,
      secondsThisInvocation: Math.round(seconds),
      blas: o.blas.name,
    },
    finalLoss: st.history.at(-1)?.loss,
  };
}

/** The figures `earshot eval` prints beside its own: the model's score on its validation split. */
export function splitFigures(probs: Float32Array, d: LoadedSplit, classes: number, notes?: string[]): SplitFigures {
  const r = evaluate(probs, d.y, d.count, classes);
  return { data: d.ref.path, dataSha256: d.ref.sha256, clips: d.count, mAP: r.mAP, AUC: r.AUC, dprime: r.dprime, ...(notes ? { notes } : {}) };
}

/**
 * The weights to ship: the moving average when the run kept one and the validation split
 * scores it at least as high as the raw weights at the last iteration, else the raw ones.
 */
function chooseWeights(st: TrainState): { params: TrainState['params']; which: 'raw' | 'ema' } {
  const last = st.history.at(-1);
  if (st.ema && last?.valMAPEma !== undefined && last.valMAP !== undefined && last.valMAPEma >= last.valMAP) return { params: st.ema, which: 'ema' };
  if (st.ema && last?.valMAP === undefined) return { params: st.ema, which: 'ema' };
  return { params: st.params, which: 'raw' };
}

/** Trains, then writes the model directory (weights, labels, history.json, training-curve.svg). */
export async function runTraining(o: TrainRunOptions, clock: () => number = Date.now): Promise<{ state: TrainState; dir: string }> {
  if (o.labels.length !== o.spec.classes) throw new EarshotError('INPUT_INVALID', `${o.labelsSource} has ${o.labels.length} labels, the model has ${o.spec.classes} classes`);
  const t0 = clock();
  let startIteration = 0;
  const st = await train(o.data, { ...o, ...(o.val ? { val: o.val } : {}), onStart: (i) => (startIteration = i) });
  const chosen = chooseWeights(st);
  const extraFiles: Record<string, string> = { 'history.json': JSON.stringify(st.history) + '\n', 'training-curve.svg': trainingCurveSvg(st.history) };
  if (o.val) {
    const probs = createHead(o.spec, chosen.params, o.blas).predictSync(dequantize(o.val.x), o.val.count);
    extraFiles['thresholds.json'] = JSON.stringify(f1Thresholds(probs, o.val.y, o.val.count, o.spec.classes, o.labels, o.val.ref)) + '\n';
    extraFiles['validation.json'] = JSON.stringify(splitFigures(probs, o.val, o.spec.classes), null, 2) + '\n';
  }
  const prov = { ...provenance(o, st, (clock() - t0) / 1000, startIteration), weights: chosen.which === 'ema' ? 'moving average of the weights (chosen on validation)' : 'last iteration' };
  if ('local' in o.out) {
    saveClassifier(o.out.local, o.spec, chosen.params, o.labels, { provenance: prov, extraFiles });
    return { state: st, dir: o.out.local };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'earshot-model-'));
  try {
    const dir = join(tmp, 'model');
    saveClassifier(dir, o.spec, chosen.params, o.labels, { provenance: prov, extraFiles });
    // Manifest last: a reader that sees it sees a complete directory.
    const files = readdirSync(dir).sort((a, b) => Number(a === 'manifest.json') - Number(b === 'manifest.json'));
    for (const f of files) await o.out.storage.writeAtomic(f, readFileSync(join(dir, f)));
    return { state: st, dir: o.out.storage.url };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export type { Blas, HistoryPoint, NetSpec };
