/** Classifier <-> model directory (src/models/modeldir.ts format). */
import { EarshotError } from '../errors.js';
import { readModelDir, writeModelDir } from '../models/modeldir.js';
import type { ModelManifest } from '../models/contracts.js';
import type { LabelInfo } from './contracts.js';
import type { Blas } from './blas.js';
import { createHead } from './head.js';
import { isModelType, paramSpecs, type NetSpec, type Params } from './net.js';

export interface SaveClassifierOptions {
  name?: string;
  version?: string;
  provenance?: Record<string, unknown>;
  extraFiles?: Record<string, Uint8Array | string>;
}

export function saveClassifier(dir: string, spec: NetSpec, params: Params, labels: readonly LabelInfo[], o: SaveClassifierOptions = {}): ModelManifest {
  const weights = new Map(paramSpecs(spec).map((p) => [p.name, { shape: p.shape, data: params.get(p.name)! }]));
  return writeModelDir(
    dir,
    {
      name: o.name ?? 'classifier',
      architecture: spec.modelType,
      version: o.version ?? '1',
      input: { name: 'embeddings', shape: [spec.timeSteps, spec.inputDim] },
      outputs: [{ name: 'probabilities', shape: [spec.classes] }],
      ...(o.provenance ? { provenance: o.provenance } : {}),
    },
    weights,
    labels,
    o.extraFiles,
  );
}

export function specFromManifest(m: ModelManifest, dir: string): NetSpec {
  if (!isModelType(m.architecture)) throw new EarshotError('MODEL_INVALID', `${dir}: architecture ${m.architecture} is not a classifier model type`, { dir });
  const k = m.weights.tensors.find((t) => t.name === 'hidden1.kernel');
  const [timeSteps, inputDim] = m.input.shape;
  const classes = m.outputs[0]?.shape[0];
  if (!k || timeSteps === undefined || inputDim === undefined || classes === undefined) throw new EarshotError('MODEL_INVALID', `${dir}: manifest lacks hidden1.kernel, input [T,D] or output [classes]`, { dir });
  return { modelType: m.architecture, timeSteps, inputDim, hidden: k.shape[1]!, classes };
}

export function loadClassifier(dir: string, blas?: Blas): { head: ReturnType<typeof createHead>; labels: readonly LabelInfo[]; manifest: ModelManifest } {
  const md = readModelDir(dir, 'classifier');
  const spec = specFromManifest(md.manifest, dir);
  const params: Params = new Map([...md.weights].map(([k, v]) => [k, v.data]));
  return { head: createHead(spec, params, blas), labels: md.labels, manifest: md.manifest };
}
