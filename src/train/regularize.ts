/**
 * What the trainer adds past the seed's recipe, each off by default so the seed's run
 * stays reproducible: mixup of embeddings and labels (Zhang et al. 2018), a cosine
 * learning-rate decay, and an exponential moving average of the weights (BN moving
 * statistics included) that validation and the shipped model may use instead of the raw ones.
 */
import type { Params } from '../classify/net.js';
import type { Rng } from './rng.js';

function normal(rng: Rng): number {
  const u = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.next());
}

/** Gamma(a, 1), Marsaglia & Tsang (2000); a < 1 boosted by U^(1/a). */
export function gamma(rng: Rng, a: number): number {
  if (a < 1) return gamma(rng, a + 1) * Math.pow(1 - rng.next(), 1 / a);
  const d = a - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.next();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

export function beta(rng: Rng, a: number): number {
  const x = gamma(rng, a);
  return x / (x + gamma(rng, a));
}

/**
 * In place: row i becomes lam_i * row i + (1 - lam_i) * row perm(i), lam_i ~ Beta(alpha, alpha),
 * for the embeddings [n, rowLen] and the 0/1 labels [n, classes] alike.
 */
export function mixupInPlace(x: Float32Array, y: Float32Array, n: number, alpha: number, rng: Rng): void {
  const rowLen = x.length / n;
  const classes = y.length / n;
  const perm = Int32Array.from({ length: n }, (_, i) => i);
  rng.shuffle(perm);
  const x0 = Float32Array.from(x);
  const y0 = Float32Array.from(y);
  for (let i = 0; i < n; i++) {
    const j = perm[i]!;
    const lam = beta(rng, alpha);
    for (let k = 0; k < rowLen; k++) x[i * rowLen + k] = lam * x0[i * rowLen + k]! + (1 - lam) * x0[j * rowLen + k]!;
    for (let k = 0; k < classes; k++) y[i * classes + k] = lam * y0[i * classes + k]! + (1 - lam) * y0[j * classes + k]!;
  }
}

/** Learning rate at 1-based `iteration` of `total`: constant, or cosine from lr down to lr * floor. */
export function scheduledLr(lr: number, schedule: 'constant' | 'cosine', iteration: number, total: number, floor = 0.01): number {
  if (schedule === 'constant') return lr;
  const p = Math.min(1, (iteration - 1) / Math.max(1, total - 1));
  return lr * (floor + (1 - floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}

export function cloneParams(p: Params): Params {
  return new Map([...p].map(([k, v]) => [k, Float32Array.from(v)]));
}

/**
 * ema = d * ema + (1 - d) * params, with d warmed up as min(decay, (1 + t) / (10 + t)) so the
 * first iterations' random weights fade quickly.
 */
export function emaUpdate(ema: Params, params: Params, decay: number, iteration: number): void {
  const d = Math.min(decay, (1 + iteration) / (10 + iteration));
  for (const [k, e] of ema) {
    const p = params.get(k)!;
    for (let i = 0; i < e.length; i++) e[i] = d * e[i]! + (1 - d) * p[i]!;
  }
}
