/**
 * Several classifier heads in ONE model directory, loaded as one head whose scores are the
 * mean of its members'. Member 0's tensors keep their plain names (so the directory is also
 * a valid single classifier of member 0's type); member k > 0 stores its tensors under
 * `m<k>/`. `ensemble.json` (listed in the manifest's extras) names each member's type,
 * hidden size and prefix.
 */
import { EarshotError } from '../errors.js';
import type { Weights } from '../models/contracts.js';
import type { Blas } from './blas.js';
import type { ClassifierHead } from './contracts.js';
import { createHead } from './head.js';
import { isModelType, type NetSpec, type Params, paramSpecs } from './net.js';

export interface EnsembleMember {
  readonly spec: NetSpec;
  readonly params: Params;
}

export interface EnsembleFile {
  combine: 'mean';
  members: Array<{ prefix: string; modelType: string; hidden: number; note?: string }>;
}

export const memberPrefix = (k: number): string => (k === 0 ? '' : `m${k}/`);

/** All members' tensors in one weights map, plus the ensemble.json that describes them. */
export function ensembleWeights(members: readonly EnsembleMember[], notes: readonly string[] = []): { weights: Weights; file: EnsembleFile } {
  if (members.length === 0) throw new EarshotError('INPUT_INVALID', 'an ensemble needs at least one member');
  const s0 = members[0]!.spec;
  const weights = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  members.forEach((m, k) => {
    if (m.spec.timeSteps !== s0.timeSteps || m.spec.inputDim !== s0.inputDim || m.spec.classes !== s0.classes) {
      throw new EarshotError(
        'MODEL_SHAPE_MISMATCH',
        `ensemble member ${k} takes [${m.spec.timeSteps},${m.spec.inputDim}] -> ${m.spec.classes}, member 0 [${s0.timeSteps},${s0.inputDim}] -> ${s0.classes}`,
      );
    }
    for (const p of paramSpecs(m.spec)) weights.set(memberPrefix(k) + p.name, { shape: p.shape, data: m.params.get(p.name)! });
  });
  const file: EnsembleFile = {
    combine: 'mean',
    members: members.map((m, k) => ({ prefix: memberPrefix(k), modelType: m.spec.modelType, hidden: m.spec.hidden, ...(notes[k] ? { note: notes[k] } : {}) })),
  };
  return { weights, file };
}

/** Splits a loaded weights map back into members (member 0 = the plain names). */
export function ensembleMembers(file: EnsembleFile, weights: ReadonlyMap<string, { data: Float32Array }>, base: NetSpec, source: string): EnsembleMember[] {
  if (file?.combine !== 'mean' || !Array.isArray(file.members) || file.members.length === 0)
    throw new EarshotError('MODEL_INVALID', `${source}: ensemble.json needs combine "mean" and at least one member`);
  return file.members.map((m, k) => {
    if (!isModelType(m.modelType)) throw new EarshotError('MODEL_INVALID', `${source}: ensemble member ${k} has model type ${m.modelType}, not a classifier model type`);
    if (!Number.isInteger(m.hidden) || m.hidden < 1) throw new EarshotError('MODEL_INVALID', `${source}: ensemble member ${k} has hidden ${m.hidden}`);
    const spec: NetSpec = { ...base, modelType: m.modelType, hidden: m.hidden };
    const params: Params = new Map();
    for (const p of paramSpecs(spec)) {
      const t = weights.get(m.prefix + p.name);
      if (!t) throw new EarshotError('MODEL_INVALID', `${source}: ensemble member ${k} lacks tensor ${m.prefix}${p.name}`, { tensor: m.prefix + p.name });
      params.set(p.name, t.data);
    }
    return { spec, params };
  });
}

export type SyncHead = ClassifierHead & { predictSync(x: Float32Array, clips: number): Float32Array };

/** One head whose output is the mean of the members' probabilities. */
export function meanHead(members: readonly EnsembleMember[], blas?: Blas): SyncHead {
  const heads = members.map((m) => createHead(m.spec, m.params, blas));
  if (heads.length === 1) return heads[0]!;
  const h0 = heads[0]!;
  const predictSync = (x: Float32Array, clips: number): Float32Array => {
    const out = h0.predictSync(x, clips);
    for (const h of heads.slice(1)) {
      const p = h.predictSync(x, clips);
      for (let i = 0; i < out.length; i++) out[i]! += p[i]!;
    }
    for (let i = 0; i < out.length; i++) out[i]! /= heads.length;
    return out;
  };
  return {
    modelType: `ensemble(${members.map((m) => m.spec.modelType).join(',')})`,
    classes: h0.classes,
    timeSteps: h0.timeSteps,
    embeddingDim: h0.embeddingDim,
    predictSync,
    predict: async (x, clips) => predictSync(x, clips),
    dispose() {
      for (const h of heads) h.dispose();
    },
  };
}
