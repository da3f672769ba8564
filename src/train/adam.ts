import type { Params } from '../classify/net.js';

/**
 * Keras 2.2 Adam (the seed's `Adam(lr=1e-3)`): beta1 0.9, beta2 0.999, epsilon K.epsilon() = 1e-7,
 * bias correction folded into the step size: lr_t = lr sqrt(1-b2^t)/(1-b1^t),
 * p -= lr_t m / (sqrt(v) + eps).
 */
export interface AdamState {
  iterations: number;
  m: Params;
  v: Params;
}

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export function adamInit(grads: Params): AdamState {
  const m: Params = new Map();
  const v: Params = new Map();
  for (const [k, g] of grads) {
    m.set(k, new Float32Array(g.length));
    v.set(k, new Float32Array(g.length));
  }
  return { iterations: 0, m, v };
}

export function adamStep(params: Params, grads: Params, st: AdamState, o: AdamOptions): void {
  const b1 = o.beta1 ?? 0.9;
  const b2 = o.beta2 ?? 0.999;
  const eps = o.epsilon ?? 1e-7;
  st.iterations += 1;
  const t = st.iterations;
  const lrT = (o.lr * Math.sqrt(1 - Math.pow(b2, t))) / (1 - Math.pow(b1, t));
  for (const [k, g] of grads) {
    const p = params.get(k)!;
    const m = st.m.get(k)!;
    const v = st.v.get(k)!;
    for (let i = 0; i < g.length; i++) {
      const gi = g[i]!;
      const mi = b1 * m[i]! + (1 - b1) * gi;
      const vi = b2 * v[i]! + (1 - b2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i]! -= (lrT * mi) / (Math.sqrt(vi) + eps);
    }
  }
}
