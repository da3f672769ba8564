/** Classifier <-> model directory (src/models/modeldir.ts format). */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { EarshotError } from '../errors.js';
import type { ModelManifest } from '../models/contracts.js';
import { readModelDir, writeModelDir } from '../models/modeldir.js';
import type { WeightDtype } from '../models/weight-dtypes.js';
import type { Blas } from './blas.js';
import type { LabelInfo } from './contracts.js';
import { type EnsembleFile, type EnsembleMember, ensembleMembers, ensembleWeights, meanHead, type SyncHead } from './ensemble.js';
import { isModelType, type NetSpec, type Params } from './net.js';

export interface SaveClassifierOptions {
  name?: string;
  version?: string;
  provenance?: Record<string, unknown>;
  extraFiles?: Record<string, Uint8Array | string>;
  /** More members averaged with the first (src/classify/ensemble.ts). */
  moreMembers?: readonly EnsembleMember[];
  memberNotes?: readonly string[];
  dtype?: WeightDtype;
}

const ENSEMBLE = 'ensemble.json';
const THRESHOLDS = 'thresholds.json';

export function saveClassifier(dir: string, spec: NetSpec, params: Params, labels: readonly LabelInfo[], o: SaveClassifierOptions = {}): ModelManifest {
  const members = [{ spec, params }, ...(o.moreMembers ?? [])];
  const { weights, file } = ensembleWeights(members, o.memberNotes);
  const extraFiles = { ...(o.extraFiles ?? {}), ...(members.length > 1 ? { [ENSEMBLE]: JSON.stringify(file, null, 2) + '\n' } : {}) };
  const extras = Object.fromEntries([ENSEMBLE, THRESHOLDS].filter((f) => f in extraFiles).map((f) => [f.replace('.json', ''), f]));
  return writeModelDir(
    dir,
    {
      name: o.name ?? 'classifier',
      architecture: spec.modelType,
      version: o.version ?? '1',
      input: { name: 'embeddings', shape: [spec.timeSteps, spec.inputDim] },
      outputs: [{ name: 'probabilities', shape: [spec.classes] }],
      ...(o.provenance ? { provenance: o.provenance } : {}),
      ...(Object.keys(extras).length ? { extras } : {}),
    },
    weights,
    labels,
    extraFiles,
    o.dtype,
  );
}

export function specFromManifest(m: ModelManifest, dir: string): NetSpec {
  if (!isModelType(m.architecture)) throw new EarshotError('MODEL_INVALID', `${dir}: architecture ${m.architecture} is not a classifier model type`, { dir });
  const k = m.weights.tensors.find((t) => t.name === 'hidden1.kernel');
  const [timeSteps, inputDim] = m.input.shape;
  const classes = m.outputs[0]?.shape[0];
  if (!k || timeSteps === undefined || inputDim === undefined || classes === undefined)
    throw new EarshotError('MODEL_INVALID', `${dir}: manifest lacks hidden1.kernel, input [T,D] or output [classes]`, { dir });
  return { modelType: m.architecture, timeSteps, inputDim, hidden: k.shape[1]!, classes };
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (e) {
    throw new EarshotError('MODEL_INVALID', `${path}: ${(e as Error).message}`, { file: path });
  }
}

/**
 * Calibrated per-label thresholds (thresholds.json, F1-optimal on the validation split) as
 * `LabelInfo.threshold`; the daemon's events use them where no threshold is configured.
 */
function withThresholds(labels: readonly LabelInfo[], dir: string, m: ModelManifest): readonly LabelInfo[] {
  const path = join(dir, m.extras?.thresholds ?? THRESHOLDS);
  if (!existsSync(path)) return labels;
  const t = readJson<{ classes?: Array<{ index: number; threshold: number | null }> }>(path);
  if (!Array.isArray(t.classes)) throw new EarshotError('MODEL_INVALID', `${path}: expected { classes: [{ index, threshold }] }`, { file: path });
  const by = new Map(t.classes.filter((c) => typeof c.threshold === 'number' && c.threshold > 0 && c.threshold < 1).map((c) => [c.index, c.threshold!]));
  return labels.map((l) => (by.has(l.index) ? { ...l, threshold: by.get(l.index)! } : l));
}

export function loadClassifier(dir: string, blas?: Blas): { head: SyncHead; labels: readonly LabelInfo[]; manifest: ModelManifest; members: EnsembleMember[] } {
  const md = readModelDir(dir, 'classifier');
  const spec = specFromManifest(md.manifest, dir);
  const ens = md.manifest.extras?.ensemble;
  const members = ens ? ensembleMembers(readJson<EnsembleFile>(join(dir, ens)), md.weights, spec, join(dir, ens)) : [{ spec, params: new Map([...md.weights].map(([k, v]) => [k, v.data])) as Params }];
  return { head: meanHead(members, blas), labels: withThresholds(md.labels, dir, md.manifest), manifest: md.manifest, members };
}
