/**
 * Stage entry points behind `earshot train|eval|predict`: data in from Storage, model
 * directories out. The CLI only parses flags and prints.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EarshotError } from '../errors.js';
import type { Storage } from '../storage/contracts.js';
import type { LabelInfo } from '../classify/contracts.js';
import type { Blas } from '../classify/blas.js';
import type { NetSpec } from '../classify/net.js';
import { saveClassifier } from '../classify/store.js';
import { loadClips, type ReadProgress } from './datasets/index.js';
import { train, type Dataset, type TrainOptions } from './trainer.js';
import type { HistoryPoint, TrainState } from './checkpoint.js';
import { trainingCurveSvg } from './report.js';

export interface LoadedSplit extends Dataset {
  readonly videoIds: string[];
  readonly source: string;
}

export async function loadSplit(storage: Storage, timeSteps: number, classes: number, onProgress?: (p: ReadProgress) => void): Promise<LoadedSplit> {
  const p = await loadClips(storage, { timeSteps, numClasses: classes, ...(onProgress ? { onProgress } : {}) });
  if (p.count === 0) throw new EarshotError('DATA_NOT_FOUND', `no AudioSet clips (*.tfrecord) under ${storage.url}`, { url: storage.url });
  return { count: p.count, x: p.x, y: p.y, videoIds: p.videoIds, source: storage.url };
}

export interface TrainRunOptions extends Omit<TrainOptions, 'val'> {
  data: LoadedSplit;
  val?: LoadedSplit;
  labels: readonly LabelInfo[];
  labelsSource: string;
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
    data: { dataset: 'AudioSet embeddings (VGGish, 128-d, uint8)', licence: 'CC BY 4.0', source: o.data.source, clips: o.data.count, labels: o.labelsSource, ...(o.val ? { validation: o.val.source, validationClips: o.val.count } : {}) },
    training: {
      modelType: o.spec.modelType,
      hidden: o.spec.hidden,
      dropout: o.dropout,
      batchSize: o.batchSize,
      learningRate: o.learningRate,
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

/** Trains, then writes the model directory (weights, labels, history.json, training-curve.svg). */
export async function runTraining(o: TrainRunOptions, clock: () => number = Date.now): Promise<{ state: TrainState; dir: string }> {
  if (o.labels.length !== o.spec.classes) throw new EarshotError('INPUT_INVALID', `${o.labelsSource} has ${o.labels.length} labels, the model has ${o.spec.classes} classes`);
  const t0 = clock();
  let startIteration = 0;
  const st = await train(o.data, { ...o, ...(o.val ? { val: o.val } : {}), onStart: (i) => (startIteration = i) });
  const extraFiles = { 'history.json': JSON.stringify(st.history) + '\n', 'training-curve.svg': trainingCurveSvg(st.history) };
  const prov = provenance(o, st, (clock() - t0) / 1000, startIteration);
  if ('local' in o.out) {
    saveClassifier(o.out.local, o.spec, st.params, o.labels, { provenance: prov, extraFiles });
    return { state: st, dir: o.out.local };
  }
  const tmp = mkdtempSync(join(tmpdir(), 'earshot-model-'));
  try {
    const dir = join(tmp, 'model');
    saveClassifier(dir, o.spec, st.params, o.labels, { provenance: prov, extraFiles });
    // Manifest last: a reader that sees it sees a complete directory.
    const files = readdirSync(dir).sort((a, b) => Number(a === 'manifest.json') - Number(b === 'manifest.json'));
    for (const f of files) await o.out.storage.writeAtomic(f, readFileSync(join(dir, f)));
    return { state: st, dir: o.out.storage.url };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export type { HistoryPoint, NetSpec, Blas };
