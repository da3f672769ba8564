/**
 * Float32 row-major kernels for the Kong et al. heads: each forward returns what its
 * backward needs, each backward returns input gradients and accumulates parameter
 * gradients. Matmuls go through the injected Blas; elementwise loops stay in TS.
 */
import type { Blas, NativeKernels } from './blas.js';

/** Uniform [0,1) source; `raw()` exposes xoshiro state words for the native kernels. */
export interface RandomSource {
  next(): number;
  raw?(): Uint32Array;
}

/** Keras' K.epsilon(): attention clip, BCE clip and Adam epsilon all use it. */
export const KERAS_EPSILON = 1e-7;

/** y[rows, out] = x[rows, in] W[in, out] + b. */
export function denseForward(blas: Blas, x: Float32Array, rows: number, inDim: number, w: Float32Array, b: Float32Array, outDim: number): Float32Array {
  const y = new Float32Array(rows * outDim);
  for (let r = 0; r < rows; r++) y.set(b, r * outDim);
  blas.sgemm(false, false, rows, outDim, inDim, 1, x, inDim, w, outDim, 1, y, outDim);
  return y;
}

/** Accumulates dW += x^T dy, db += colsum(dy); returns dx = dy W^T unless `needInput` is false. */
export function denseBackward(
  blas: Blas,
  x: Float32Array,
  dy: Float32Array,
  rows: number,
  inDim: number,
  outDim: number,
  w: Float32Array,
  dw: Float32Array,
  db: Float32Array,
  needInput = true,
): Float32Array | undefined {
  blas.sgemm(true, false, inDim, outDim, rows, 1, x, inDim, dy, outDim, 1, dw, outDim);
  const acc = new Float64Array(outDim);
  for (let r = 0; r < rows; r++) {
    const o = r * outDim;
    for (let j = 0; j < outDim; j++) acc[j]! += dy[o + j]!;
  }
  for (let j = 0; j < outDim; j++) db[j]! += acc[j]!;
  if (!needInput) return undefined;
  const dx = new Float32Array(rows * inDim);
  blas.sgemm(false, true, rows, inDim, outDim, 1, dy, outDim, w, outDim, 0, dx, inDim);
  return dx;
}

export interface BnParams {
  gamma: Float32Array;
  beta: Float32Array;
  movingMean: Float32Array;
  movingVariance: Float32Array;
}

export interface BnReluCache {
  xhat: Float32Array;
  invStd: Float32Array;
  /** Post-dropout output; > 0 exactly where the gradient flows. */
  out: Float32Array;
  keepScale: number;
}

/**
 * BatchNormalization (Keras: eps 1e-3, momentum 0.99, moving variance updated with the
 * n/(n-1-eps) sample correction) + ReLU + inverted Dropout(rate), fused. In training mode
 * batch statistics normalise and the moving averages are updated in place.
 */
export function bnReluDropoutForward(
  h: Float32Array,
  rows: number,
  dim: number,
  p: BnParams,
  training: boolean,
  dropout: number,
  rng: RandomSource | undefined,
  k?: NativeKernels,
  momentum = 0.99,
  eps = 1e-3,
): BnReluCache {
  const mean = new Float64Array(dim);
  const invStd = new Float32Array(dim);
  const xhat = new Float32Array(rows * dim);
  const out = new Float32Array(rows * dim);
  const drop = training && dropout > 0;
  if (drop && !rng) throw new Error('dropout in training mode needs a random source');
  const keepScale = drop ? 1 / (1 - dropout) : 1;
  if (k && (!drop || rng?.raw)) {
    k.bnForward(h, rows, dim, p.gamma, p.beta, p.movingMean, p.movingVariance, training, dropout, drop ? rng!.raw!() : null, momentum, eps, xhat, invStd, out);
    return { xhat, invStd, out, keepScale };
  }
  if (training) {
    const v = new Float64Array(dim);
    for (let r = 0; r < rows; r++) {
      const o = r * dim;
      for (let j = 0; j < dim; j++) mean[j]! += h[o + j]!;
    }
    for (let j = 0; j < dim; j++) mean[j]! /= rows;
    for (let r = 0; r < rows; r++) {
      const o = r * dim;
      for (let j = 0; j < dim; j++) {
        const d = h[o + j]! - mean[j]!;
        v[j]! += d * d;
      }
    }
    const corr = rows / (rows - (1 + eps));
    for (let j = 0; j < dim; j++) {
      const variance = v[j]! / rows;
      invStd[j] = 1 / Math.sqrt(variance + eps);
      p.movingMean[j] = p.movingMean[j]! * momentum + mean[j]! * (1 - momentum);
      p.movingVariance[j] = p.movingVariance[j]! * momentum + variance * corr * (1 - momentum);
    }
  } else {
    for (let j = 0; j < dim; j++) {
      mean[j] = p.movingMean[j]!;
      invStd[j] = 1 / Math.sqrt(p.movingVariance[j]! + eps);
    }
  }
  const m32 = Float32Array.from(mean);
  const { gamma, beta } = p;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) {
      const xh = (h[o + j]! - m32[j]!) * invStd[j]!;
      xhat[o + j] = xh;
      const y = gamma[j]! * xh + beta[j]!;
      // Draw for every element (not only where y > 0) so the mask never depends on the data.
      const keep = !drop || rng!.next() >= dropout;
      out[o + j] = y > 0 && keep ? y * keepScale : 0;
    }
  }
  return { xhat, invStd, out, keepScale };
}

/** Backward of bnReluDropoutForward (training mode); accumulates dgamma/dbeta, returns dh. */
export function bnReluDropoutBackward(c: BnReluCache, dout: Float32Array, rows: number, dim: number, gamma: Float32Array, dgamma: Float32Array, dbeta: Float32Array, k?: NativeKernels): Float32Array {
  const dy = new Float32Array(rows * dim);
  if (k) {
    k.bnBackward(c.out, dout, c.xhat, c.invStd, gamma, c.keepScale, rows, dim, dgamma, dbeta, dy);
    return dy;
  }
  const s1 = new Float64Array(dim);
  const s2 = new Float64Array(dim);
  const { out, xhat, keepScale } = c;
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) {
      const g = out[o + j]! > 0 ? dout[o + j]! * keepScale : 0;
      dy[o + j] = g;
      s1[j]! += g;
      s2[j]! += g * xhat[o + j]!;
    }
  }
  const k1 = new Float32Array(dim);
  const m1 = new Float32Array(dim);
  const m2 = new Float32Array(dim);
  for (let j = 0; j < dim; j++) {
    dgamma[j]! += s2[j]!;
    dbeta[j]! += s1[j]!;
    k1[j] = gamma[j]! * c.invStd[j]!;
    m1[j] = s1[j]! / rows;
    m2[j] = s2[j]! / rows;
  }
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    for (let j = 0; j < dim; j++) dy[o + j] = k1[j]! * (dy[o + j]! - m1[j]! - xhat[o + j]! * m2[j]!);
  }
  return dy;
}

export function sigmoidInPlace(z: Float32Array, k?: NativeKernels): Float32Array {
  if (k) {
    k.sigmoid(z);
    return z;
  }
  for (let i = 0; i < z.length; i++) z[i] = 1 / (1 + Math.exp(-z[i]!));
  return z;
}

/** Softmax over the last axis (Keras 2 Dense(activation='softmax') on 3-D input). */
export function softmaxRowsInPlace(z: Float32Array, rows: number, dim: number, k?: NativeKernels): Float32Array {
  if (k) {
    k.softmaxRows(z, rows, dim);
    return z;
  }
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let mx = -Infinity;
    for (let j = 0; j < dim; j++) if (z[o + j]! > mx) mx = z[o + j]!;
    let s = 0;
    for (let j = 0; j < dim; j++) {
      const e = Math.exp(z[o + j]! - mx);
      z[o + j] = e;
      s += e;
    }
    const inv = 1 / s;
    for (let j = 0; j < dim; j++) z[o + j]! *= inv;
  }
  return z;
}

export interface AttPoolCache {
  cla: Float32Array;
  att: Float32Array;
  out: Float32Array;
  sum: Float32Array;
}

/**
 * Kong's attention_pooling: att clipped to [eps, 1-eps], normalised over time,
 * out[n,d] = sum_t cla[n,t,d] * att[n,t,d] / sum_t att[n,t,d].
 */
export function attentionPoolForward(cla: Float32Array, att: Float32Array, n: number, steps: number, dim: number): AttPoolCache {
  const out = new Float32Array(n * dim);
  const sum = new Float32Array(n * dim);
  const hi = 1 - KERAS_EPSILON;
  for (let i = 0; i < n; i++) {
    const oo = i * dim;
    for (let t = 0; t < steps; t++) {
      const o = (i * steps + t) * dim;
      for (let d = 0; d < dim; d++) {
        const a = Math.min(Math.max(att[o + d]!, KERAS_EPSILON), hi);
        sum[oo + d]! += a;
        out[oo + d]! += cla[o + d]! * a;
      }
    }
    for (let d = 0; d < dim; d++) out[oo + d]! /= sum[oo + d]!;
  }
  return { cla, att, out, sum };
}

/** Returns [dcla, datt] (gradients w.r.t. the unclipped att; zero where the clip is active). */
export function attentionPoolBackward(c: AttPoolCache, g: Float32Array, n: number, steps: number, dim: number): [Float32Array, Float32Array] {
  const dcla = new Float32Array(n * steps * dim);
  const datt = new Float32Array(n * steps * dim);
  const hi = 1 - KERAS_EPSILON;
  for (let i = 0; i < n; i++) {
    const oo = i * dim;
    for (let t = 0; t < steps; t++) {
      const o = (i * steps + t) * dim;
      for (let d = 0; d < dim; d++) {
        const gs = g[oo + d]! / c.sum[oo + d]!;
        const a0 = c.att[o + d]!;
        const a = Math.min(Math.max(a0, KERAS_EPSILON), hi);
        dcla[o + d] = gs * a;
        datt[o + d] = a0 < KERAS_EPSILON || a0 > hi ? 0 : gs * (c.cla[o + d]! - c.out[oo + d]!);
      }
    }
  }
  return [dcla, datt];
}

/** dz = dy * y (1 - y) for y = sigmoid(z), in place on dy. */
export function sigmoidBackwardInPlace(dy: Float32Array, y: Float32Array): Float32Array {
  for (let i = 0; i < dy.length; i++) dy[i]! *= y[i]! * (1 - y[i]!);
  return dy;
}

/** dz = y (dy - sum_j dy_j y_j) per row for y = softmax(z), in place on dy. */
export function softmaxBackwardInPlace(dy: Float32Array, y: Float32Array, rows: number, dim: number): Float32Array {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s += dy[o + j]! * y[o + j]!;
    for (let j = 0; j < dim; j++) dy[o + j] = y[o + j]! * (dy[o + j]! - s);
  }
  return dy;
}

/**
 * Keras binary_crossentropy: p clipped to [eps, 1-eps], mean over classes and clips.
 * Returns the loss and dL/dp (zero where the clip is active).
 */
export function bceLoss(p: Float32Array, y: Float32Array): { loss: number; grad: Float32Array } {
  const grad = new Float32Array(p.length);
  const hi = 1 - KERAS_EPSILON;
  const scale = 1 / p.length;
  let loss = 0;
  for (let i = 0; i < p.length; i++) {
    const p0 = p[i]!;
    const q = Math.min(Math.max(p0, KERAS_EPSILON), hi);
    loss -= y[i]! * Math.log(q) + (1 - y[i]!) * Math.log(1 - q);
    grad[i] = p0 < KERAS_EPSILON || p0 > hi ? 0 : ((q - y[i]!) / (q * (1 - q))) * scale;
  }
  return { loss: loss * scale, grad };
}
