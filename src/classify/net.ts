/**
 * The five Kong et al. (2017) / Yu et al. (2018) classifier heads over [clips, T, D]
 * embeddings, forward and backward, matching the seed's Keras graph
 * (qiuqiangkong/audioset_classification keras/main.py): 3 x (Dense + BN + ReLU + Dropout)
 * per time step, then the pooling head of `modelType`.
 */
import { modelTypes } from '../config/sections/train.js';
import { EarshotError } from '../errors.js';
import type { Blas } from './blas.js';
import {
  attentionPoolBackward,
  attentionPoolForward,
  type AttPoolCache,
  type BnParams,
  type BnReluCache,
  bnReluDropoutBackward,
  bnReluDropoutForward,
  denseBackward,
  denseForward,
  type RandomSource,
  sigmoidBackwardInPlace,
  sigmoidInPlace,
  softmaxBackwardInPlace,
  softmaxRowsInPlace,
} from './layers.js';

/** The seed's Keras `model_type`s; the list lives with the config schema that validates it. */
export const MODEL_TYPES = modelTypes;
export type ModelType = (typeof MODEL_TYPES)[number];

export interface NetSpec {
  readonly modelType: ModelType;
  readonly timeSteps: number;
  readonly inputDim: number;
  readonly hidden: number;
  readonly classes: number;
}

export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** BN moving statistics are state, not optimiser variables. */
  readonly trainable: boolean;
  readonly init: 'glorot' | 'zeros' | 'ones';
}

export type Params = Map<string, Float32Array>;

function dense(name: string, i: number, o: number): ParamSpec[] {
  return [
    { name: `${name}.kernel`, shape: [i, o], trainable: true, init: 'glorot' },
    { name: `${name}.bias`, shape: [o], trainable: true, init: 'zeros' },
  ];
}
function bn(name: string, d: number): ParamSpec[] {
  return [
    { name: `${name}.gamma`, shape: [d], trainable: true, init: 'ones' },
    { name: `${name}.beta`, shape: [d], trainable: true, init: 'zeros' },
    { name: `${name}.movingMean`, shape: [d], trainable: false, init: 'zeros' },
    { name: `${name}.movingVariance`, shape: [d], trainable: false, init: 'ones' },
  ];
}

/** Parameter list in Keras layer-creation order (the h5 importer relies on it). */
export function paramSpecs(s: NetSpec): ParamSpec[] {
  const { hidden: h, classes: c } = s;
  const out: ParamSpec[] = [];
  for (let i = 1; i <= 3; i++) out.push(...dense(`hidden${i}`, i === 1 ? s.inputDim : h, h), ...bn(`bn${i}`, h));
  switch (s.modelType) {
    case 'decision_level_max_pooling':
    case 'decision_level_average_pooling':
      return [...out, ...dense('cla', h, c)];
    case 'decision_level_single_attention':
      return [...out, ...dense('cla', h, c), ...dense('att', h, c)];
    case 'decision_level_multi_attention':
      return [...out, ...dense('cla1', h, c), ...dense('att1', h, c), ...dense('cla2', h, c), ...dense('att2', h, c), ...dense('out', 2 * c, c)];
    case 'feature_level_attention':
      return [...out, ...dense('cla', h, h), ...dense('att', h, h), ...bn('bn4', h), ...dense('out', h, c)];
  }
}

export function isModelType(s: string): s is ModelType {
  return (MODEL_TYPES as readonly string[]).includes(s);
}

/** Keras defaults: glorot_uniform kernels, zero biases, BN gamma 1 / beta 0 / moving var 1. */
export function initParams(s: NetSpec, rand: () => number): Params {
  const p: Params = new Map();
  for (const spec of paramSpecs(s)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    if (spec.init === 'ones') a.fill(1);
    else if (spec.init === 'glorot') {
      const limit = Math.sqrt(6 / (spec.shape[0]! + spec.shape[1]!));
      for (let i = 0; i < n; i++) a[i] = (rand() * 2 - 1) * limit;
    }
    p.set(spec.name, a);
  }
  return p;
}

/** Checks names and sizes so a bad model directory fails with the tensor's name. */
export function checkParams(s: NetSpec, p: ReadonlyMap<string, { length: number }>, source: string): void {
  for (const spec of paramSpecs(s)) {
    const t = p.get(spec.name);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (!t) throw new EarshotError('MODEL_INVALID', `${source}: missing tensor ${spec.name} for ${s.modelType}`, { tensor: spec.name });
    if (t.length !== n) throw new EarshotError('MODEL_SHAPE_MISMATCH', `${source}: tensor ${spec.name} has ${t.length} values, expected [${spec.shape.join(',')}]`, { tensor: spec.name });
  }
}

function get(p: Params, name: string): Float32Array {
  const t = p.get(name);
  if (!t) throw new EarshotError('MODEL_UNKNOWN_VARIABLE', `classifier parameter ${name} is missing`, { tensor: name });
  return t;
}
function bnOf(p: Params, name: string): BnParams {
  return { gamma: get(p, `${name}.gamma`), beta: get(p, `${name}.beta`), movingMean: get(p, `${name}.movingMean`), movingVariance: get(p, `${name}.movingVariance`) };
}

export interface ForwardOptions {
  training: boolean;
  dropout: number;
  /** Dropout mask source (training only); an Rng lets the native kernels draw the same stream. */
  rng?: RandomSource;
}

interface DecisionHead {
  input: Float32Array;
  cla: Float32Array;
  att?: Float32Array;
  pool?: AttPoolCache;
}

export interface ForwardCache {
  n: number;
  x: Float32Array;
  blocks: BnReluCache[];
  heads: DecisionHead[];
  /** multi-attention: concatenated [n, 2C]; feature-level: pooled+BN block. */
  concat?: Float32Array;
  feat?: { pool: AttPoolCache; bn: BnReluCache };
  output: Float32Array;
}

function decisionHead(blas: Blas, s: NetSpec, p: Params, a: Float32Array, n: number, cla: string, att?: string): DecisionHead {
  const rows = n * s.timeSteps;
  const c = sigmoidInPlace(denseForward(blas, a, rows, s.hidden, get(p, `${cla}.kernel`), get(p, `${cla}.bias`), s.classes), blas.kernels);
  if (!att) return { input: a, cla: c };
  const w = softmaxRowsInPlace(denseForward(blas, a, rows, s.hidden, get(p, `${att}.kernel`), get(p, `${att}.bias`), s.classes), rows, s.classes, blas.kernels);
  return { input: a, cla: c, att: w, pool: attentionPoolForward(c, w, n, s.timeSteps, s.classes) };
}

function poolMaxOrMean(s: NetSpec, cla: Float32Array, n: number, max: boolean): Float32Array {
  const { timeSteps: T, classes: C } = s;
  const out = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < C; c++) {
      let v = max ? -Infinity : 0;
      for (let t = 0; t < T; t++) {
        const x = cla[(i * T + t) * C + c]!;
        v = max ? Math.max(v, x) : v + x;
      }
      out[i * C + c] = max ? v : v / T;
    }
  }
  return out;
}

/** x: float32 [n, T, D] dequantized. Returns probabilities [n, C] and the backward cache. */
export function forward(blas: Blas, s: NetSpec, p: Params, x: Float32Array, n: number, o: ForwardOptions): ForwardCache {
  const rows = n * s.timeSteps;
  if (x.length !== rows * s.inputDim) throw new EarshotError('MODEL_SHAPE_MISMATCH', `classifier input has ${x.length} values, expected [${n},${s.timeSteps},${s.inputDim}]`);
  const k = blas.kernels;
  const blocks: BnReluCache[] = [];
  let a = x;
  for (let i = 1; i <= 3; i++) {
    const h = denseForward(blas, a, rows, i === 1 ? s.inputDim : s.hidden, get(p, `hidden${i}.kernel`), get(p, `hidden${i}.bias`), s.hidden);
    const b = bnReluDropoutForward(h, rows, s.hidden, bnOf(p, `bn${i}`), o.training, o.dropout, o.rng, k);
    blocks.push(b);
    a = b.out;
  }
  const a2 = blocks[1]!.out;
  const a3 = blocks[2]!.out;
  const C = s.classes;
  switch (s.modelType) {
    case 'decision_level_max_pooling':
    case 'decision_level_average_pooling': {
      const head = decisionHead(blas, s, p, a3, n, 'cla');
      const output = poolMaxOrMean(s, head.cla, n, s.modelType === 'decision_level_max_pooling');
      return { n, x, blocks, heads: [head], output };
    }
    case 'decision_level_single_attention': {
      const head = decisionHead(blas, s, p, a3, n, 'cla', 'att');
      return { n, x, blocks, heads: [head], output: head.pool!.out };
    }
    case 'decision_level_multi_attention': {
      const h1 = decisionHead(blas, s, p, a2, n, 'cla1', 'att1');
      const h2 = decisionHead(blas, s, p, a3, n, 'cla2', 'att2');
      const concat = new Float32Array(n * 2 * C);
      for (let i = 0; i < n; i++) {
        concat.set(h1.pool!.out.subarray(i * C, (i + 1) * C), i * 2 * C);
        concat.set(h2.pool!.out.subarray(i * C, (i + 1) * C), i * 2 * C + C);
      }
      const output = sigmoidInPlace(denseForward(blas, concat, n, 2 * C, get(p, 'out.kernel'), get(p, 'out.bias'), C), k);
      return { n, x, blocks, heads: [h1, h2], concat, output };
    }
    case 'feature_level_attention': {
      const H = s.hidden;
      const cla = denseForward(blas, a3, rows, H, get(p, 'cla.kernel'), get(p, 'cla.bias'), H);
      const att = sigmoidInPlace(denseForward(blas, a3, rows, H, get(p, 'att.kernel'), get(p, 'att.bias'), H), k);
      const pool = attentionPoolForward(cla, att, n, s.timeSteps, H);
      const b4 = bnReluDropoutForward(pool.out, n, H, bnOf(p, 'bn4'), o.training, o.dropout, o.rng, k);
      const output = sigmoidInPlace(denseForward(blas, b4.out, n, H, get(p, 'out.kernel'), get(p, 'out.bias'), C), k);
      return { n, x, blocks, heads: [], feat: { pool, bn: b4 }, output };
    }
  }
}

/** Zeroed gradient buffers for every trainable parameter. */
export function zeroGrads(s: NetSpec): Params {
  const g: Params = new Map();
  for (const spec of paramSpecs(s)) if (spec.trainable) g.set(spec.name, new Float32Array(spec.shape.reduce((a, b) => a * b, 1)));
  return g;
}

function decisionHeadBackward(blas: Blas, s: NetSpec, p: Params, g: Params, h: DecisionHead, dOut: Float32Array, n: number, cla: string, att: string): Float32Array {
  const rows = n * s.timeSteps;
  const [dcla, datt] = attentionPoolBackward(h.pool!, dOut, n, s.timeSteps, s.classes);
  sigmoidBackwardInPlace(dcla, h.cla);
  softmaxBackwardInPlace(datt, h.att!, rows, s.classes);
  const da = denseBackward(blas, h.input, dcla, rows, s.hidden, s.classes, get(p, `${cla}.kernel`), get(g, `${cla}.kernel`), get(g, `${cla}.bias`))!;
  const da2 = denseBackward(blas, h.input, datt, rows, s.hidden, s.classes, get(p, `${att}.kernel`), get(g, `${att}.kernel`), get(g, `${att}.bias`))!;
  for (let i = 0; i < da.length; i++) da[i]! += da2[i]!;
  return da;
}

/** Accumulates parameter gradients into `g` given dL/d(output) [n, C]. */
export function backward(blas: Blas, s: NetSpec, p: Params, c: ForwardCache, dOutput: Float32Array, g: Params): void {
  const { n } = c;
  const rows = n * s.timeSteps;
  const H = s.hidden;
  const C = s.classes;
  let da3: Float32Array;
  let da2: Float32Array | undefined;
  switch (s.modelType) {
    case 'decision_level_max_pooling':
    case 'decision_level_average_pooling': {
      const h = c.heads[0]!;
      const T = s.timeSteps;
      const dcla = new Float32Array(rows * C);
      for (let i = 0; i < n; i++)
        for (let k = 0; k < C; k++) {
          const gv = dOutput[i * C + k]!;
          if (s.modelType === 'decision_level_average_pooling') for (let t = 0; t < T; t++) dcla[(i * T + t) * C + k] = gv / T;
          else {
            let best = 0;
            for (let t = 1; t < T; t++) if (h.cla[(i * T + t) * C + k]! > h.cla[(i * T + best) * C + k]!) best = t;
            dcla[(i * T + best) * C + k] = gv;
          }
        }
      sigmoidBackwardInPlace(dcla, h.cla);
      da3 = denseBackward(blas, h.input, dcla, rows, H, C, get(p, 'cla.kernel'), get(g, 'cla.kernel'), get(g, 'cla.bias'))!;
      break;
    }
    case 'decision_level_single_attention':
      da3 = decisionHeadBackward(blas, s, p, g, c.heads[0]!, dOutput, n, 'cla', 'att');
      break;
    case 'decision_level_multi_attention': {
      const dz = sigmoidBackwardInPlace(Float32Array.from(dOutput), c.output);
      const dconcat = denseBackward(blas, c.concat!, dz, n, 2 * C, C, get(p, 'out.kernel'), get(g, 'out.kernel'), get(g, 'out.bias'))!;
      const d1 = new Float32Array(n * C);
      const d2 = new Float32Array(n * C);
      for (let i = 0; i < n; i++) {
        d1.set(dconcat.subarray(i * 2 * C, i * 2 * C + C), i * C);
        d2.set(dconcat.subarray(i * 2 * C + C, (i + 1) * 2 * C), i * C);
      }
      da2 = decisionHeadBackward(blas, s, p, g, c.heads[0]!, d1, n, 'cla1', 'att1');
      da3 = decisionHeadBackward(blas, s, p, g, c.heads[1]!, d2, n, 'cla2', 'att2');
      break;
    }
    case 'feature_level_attention': {
      const f = c.feat!;
      const dz = sigmoidBackwardInPlace(Float32Array.from(dOutput), c.output);
      const db4 = denseBackward(blas, f.bn.out, dz, n, H, C, get(p, 'out.kernel'), get(g, 'out.kernel'), get(g, 'out.bias'))!;
      const dpool = bnReluDropoutBackward(f.bn, db4, n, H, get(p, 'bn4.gamma'), get(g, 'bn4.gamma'), get(g, 'bn4.beta'), blas.kernels);
      const [dcla, datt] = attentionPoolBackward(f.pool, dpool, n, s.timeSteps, H);
      sigmoidBackwardInPlace(datt, f.pool.att);
      const a3 = c.blocks[2]!.out;
      da3 = denseBackward(blas, a3, dcla, rows, H, H, get(p, 'cla.kernel'), get(g, 'cla.kernel'), get(g, 'cla.bias'))!;
      const dx2 = denseBackward(blas, a3, datt, rows, H, H, get(p, 'att.kernel'), get(g, 'att.kernel'), get(g, 'att.bias'))!;
      for (let i = 0; i < da3.length; i++) da3[i]! += dx2[i]!;
      break;
    }
  }
  let d: Float32Array = da3;
  for (let i = 3; i >= 1; i--) {
    if (i === 2 && da2) for (let k = 0; k < d.length; k++) d[k]! += da2[k]!;
    const b = c.blocks[i - 1]!;
    const dh = bnReluDropoutBackward(b, d, rows, H, get(p, `bn${i}.gamma`), get(g, `bn${i}.gamma`), get(g, `bn${i}.beta`), blas.kernels);
    const input = i === 1 ? c.x : c.blocks[i - 2]!.out;
    const inDim = i === 1 ? s.inputDim : H;
    const dx = denseBackward(blas, input, dh, rows, inDim, H, get(p, `hidden${i}.kernel`), get(g, `hidden${i}.kernel`), get(g, `hidden${i}.bias`), i > 1);
    if (dx) d = dx;
  }
}
