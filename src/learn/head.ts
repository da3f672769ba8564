import { defaultBlas, tsBlas } from '../classify/blas.js';
import { denseBackward, denseForward } from '../classify/layers.js';
import { adamInit, adamStep } from '../train/adam.js';
import { Rng } from '../train/rng.js';
import type { HeadWeights } from './contracts.js';

export interface HeadTrainOptions {
  /** 0 = logistic regression; else one relu hidden layer of this width. */
  readonly hidden: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  /** L2 penalty on the weights (not biases). */
  readonly l2: number;
  readonly seed: number;
}

export const DEFAULT_HEAD: HeadTrainOptions = { hidden: 0, epochs: 15, batchSize: 128, learningRate: 2e-3, l2: 1e-2, seed: 1 };

/** Training rows: x [n, dim] embeddings; y [n, classes] 0/1 targets (all 0 = background). */
export interface TrainSet {
  readonly x: Float32Array;
  readonly y: Uint8Array;
  readonly n: number;
  readonly dim: number;
  readonly classes: number;
}

function standardise(s: TrainSet): { mean: Float32Array; std: Float32Array } {
  const mean = new Float64Array(s.dim);
  const sq = new Float64Array(s.dim);
  for (let r = 0; r < s.n; r++) {
    const o = r * s.dim;
    for (let j = 0; j < s.dim; j++) {
      const v = s.x[o + j]!;
      mean[j]! += v;
      sq[j]! += v * v;
    }
  }
  const m = new Float32Array(s.dim);
  const sd = new Float32Array(s.dim);
  for (let j = 0; j < s.dim; j++) {
    m[j] = mean[j]! / s.n;
    sd[j] = Math.sqrt(Math.max(0, sq[j]! / s.n - m[j]! * m[j]!)) + 1e-3;
  }
  return { mean: m, std: sd };
}

function normalised(x: Float32Array, rows: number, h: Pick<HeadWeights, 'mean' | 'std' | 'inputDim'>): Float32Array {
  const z = new Float32Array(rows * h.inputDim);
  for (let r = 0; r < rows; r++) {
    const o = r * h.inputDim;
    for (let j = 0; j < h.inputDim; j++) z[o + j] = (x[o + j]! - h.mean[j]!) / h.std[j]!;
  }
  return z;
}

function sigmoid(v: number): number {
  return 1 / (1 + Math.exp(-v));
}

/** Probabilities [rows, classes] for embeddings [rows, inputDim]. */
export function applyHead(h: HeadWeights, x: Float32Array, rows: number): Float32Array {
  const blas = defaultBlas();
  const z = normalised(x, rows, h);
  const hid = h.hidden > 0 ? relu(denseForward(blas, z, rows, h.inputDim, h.w1, h.b1, h.hidden)) : z;
  const out = h.hidden > 0 ? denseForward(blas, hid, rows, h.hidden, h.w2!, h.b2!, h.classes) : denseForward(blas, z, rows, h.inputDim, h.w1, h.b1, h.classes);
  for (let i = 0; i < out.length; i++) out[i] = sigmoid(out[i]!);
  return out;
}

function relu(a: Float32Array): Float32Array {
  for (let i = 0; i < a.length; i++) if (a[i]! < 0) a[i] = 0;
  return a;
}

/**
 * Minibatch Adam on class-weighted binary cross-entropy (one-vs-rest sigmoid per class,
 * so each custom label scores like an AudioSet label). Positives are weighted up to the
 * negatives' count per class (at most 20x): a few examples against minutes of background.
 */
export function trainHead(s: TrainSet, o: HeadTrainOptions): HeadWeights {
  const blas = defaultBlas().name === 'openblas' ? defaultBlas() : tsBlas;
  const rng = new Rng(o.seed);
  const { mean, std } = standardise(s);
  const base = { inputDim: s.dim, mean, std };
  const z = normalised(s.x, s.n, base);
  const C = s.classes;
  const pos = new Float64Array(C);
  for (let r = 0; r < s.n; r++) for (let c = 0; c < C; c++) pos[c]! += s.y[r * C + c]!;
  const posWeight = Array.from(pos, (p) => Math.min(20, Math.max(1, (s.n - p) / Math.max(1, p))));
  const inDim = o.hidden > 0 ? o.hidden : s.dim;
  const scale = (fanIn: number) => Math.sqrt(2 / fanIn);
  const params = new Map<string, Float32Array>();
  if (o.hidden > 0) {
    params.set(
      'w1',
      Float32Array.from({ length: s.dim * o.hidden }, () => (rng.next() * 2 - 1) * scale(s.dim)),
    );
    params.set('b1', new Float32Array(o.hidden));
  }
  params.set('w', new Float32Array(inDim * C));
  // Start at the background rate: biases = logit of the class prior.
  params.set(
    'b',
    Float32Array.from(pos, (p) => Math.log((p + 1) / (s.n - p + 1))),
  );
  const grads = new Map([...params].map(([k, v]) => [k, new Float32Array(v.length)]));
  const adam = adamInit(grads);
  const order = Int32Array.from({ length: s.n }, (_, i) => i);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    rng.shuffle(order);
    for (let start = 0; start < s.n; start += o.batchSize) {
      const rows = Math.min(o.batchSize, s.n - start);
      const xb = new Float32Array(rows * s.dim);
      for (let r = 0; r < rows; r++) xb.set(z.subarray(order[start + r]! * s.dim, (order[start + r]! + 1) * s.dim), r * s.dim);
      for (const g of grads.values()) g.fill(0);
      const hid = o.hidden > 0 ? relu(denseForward(blas, xb, rows, s.dim, params.get('w1')!, params.get('b1')!, o.hidden)) : xb;
      const logits = denseForward(blas, hid, rows, inDim, params.get('w')!, params.get('b')!, C);
      const dz = new Float32Array(rows * C);
      for (let r = 0; r < rows; r++) {
        const row = order[start + r]!;
        for (let c = 0; c < C; c++) {
          const yv = s.y[row * C + c]!;
          const w = yv ? posWeight[c]! : 1;
          dz[r * C + c] = (w * (sigmoid(logits[r * C + c]!) - yv)) / rows;
        }
      }
      const dh = denseBackward(blas, hid, dz, rows, inDim, C, params.get('w')!, grads.get('w')!, grads.get('b')!, o.hidden > 0);
      if (o.hidden > 0 && dh) {
        for (let i = 0; i < dh.length; i++) if (hid[i]! <= 0) dh[i] = 0;
        denseBackward(blas, xb, dh, rows, s.dim, o.hidden, params.get('w1')!, grads.get('w1')!, grads.get('b1')!, false);
      }
      for (const k of ['w', 'w1']) {
        const p = params.get(k);
        if (!p) continue;
        const g = grads.get(k)!;
        for (let i = 0; i < p.length; i++) g[i]! += o.l2 * p[i]!;
      }
      adamStep(params, grads, adam, { lr: o.learningRate });
    }
  }
  return o.hidden > 0
    ? { ...base, classes: C, hidden: o.hidden, w1: params.get('w1')!, b1: params.get('b1')!, w2: params.get('w')!, b2: params.get('b')! }
    : { ...base, classes: C, hidden: 0, w1: params.get('w')!, b1: params.get('b')! };
}
