import type { QuantizedEmbedding } from './contracts.js';
import { type Dot8, dot8Kernel } from './dot8-wasm.js';

const kernels = new Map<number, Dot8 | null>();
const kernelFor = (dim: number): Dot8 | null => {
  if (!kernels.has(dim)) kernels.set(dim, dot8Kernel(dim));
  return kernels.get(dim)!;
};

/** Symmetric int8 quantization: q = round(x / scale), scale = max|x| / 127 (all-zero input: scale 0). */
export function quantize(x: Float32Array): QuantizedEmbedding {
  let max = 0;
  for (let i = 0; i < x.length; i++) {
    const a = Math.abs(x[i]!);
    if (a > max) max = a;
  }
  const q = new Int8Array(x.length);
  if (max === 0) return { scale: 0, q };
  const inv = 127 / max;
  for (let i = 0; i < x.length; i++) q[i] = Math.round(x[i]! * inv);
  return { scale: max / 127, q };
}

export function dequantize(e: QuantizedEmbedding): Float32Array {
  const out = new Float32Array(e.q.length);
  for (let i = 0; i < out.length; i++) out[i] = e.q[i]! * e.scale;
  return out;
}

/** Mean of several embeddings of one dimension, re-quantized (a file's or an event's centroid). */
export function meanEmbedding(list: readonly QuantizedEmbedding[]): QuantizedEmbedding | undefined {
  if (list.length === 0) return undefined;
  const dim = list[0]!.q.length;
  const acc = new Float32Array(dim);
  let n = 0;
  for (const e of list) {
    if (e.q.length !== dim) continue;
    for (let i = 0; i < dim; i++) acc[i]! += e.q[i]! * e.scale;
    n++;
  }
  for (let i = 0; i < dim; i++) acc[i]! /= n;
  return quantize(acc);
}

/** Euclidean norm of the int8 codes (the scale cancels in a cosine). */
export function codeNorm(q: Int8Array): number {
  let s = 0;
  for (let i = 0; i < q.length; i++) s += q[i]! * q[i]!;
  return Math.sqrt(s);
}

/**
 * Brute-force cosine over a packed matrix of int8 codes ([rows, dim], row-major) with
 * precomputed row norms; keeps the `k` best in a small sorted buffer. `skip(row)`
 * leaves rows out (the query file). Rows with a zero norm never match.
 */
export function topCosine(query: Int8Array, codes: Int8Array, norms: Float32Array, rows: number, k: number, skip?: (row: number) => boolean, useWasm = true): { row: number; similarity: number }[] {
  const dim = query.length;
  const qn = codeNorm(query);
  const best: { row: number; similarity: number }[] = [];
  if (qn === 0 || k <= 0) return best;
  const kernel = useWasm ? kernelFor(dim) : null;
  if (kernel) {
    // Same selection as below over the SIMD kernel's exact integer dots.
    let floor = -Infinity;
    kernel(query, codes, rows, (r0, dots) => {
      for (let j = 0; j < dots.length; j++) {
        const r = r0 + j;
        const n = norms[r]!;
        if (n === 0 || (skip && skip(r))) continue;
        const sim = dots[j]! / (qn * n);
        if (best.length < k || sim > floor) {
          let at = best.length;
          while (at > 0 && best[at - 1]!.similarity < sim) at--;
          best.splice(at, 0, { row: r, similarity: sim });
          if (best.length > k) best.pop();
          floor = best[best.length - 1]!.similarity;
        }
      }
    });
    return best;
  }
  // Int32 copy of the query keeps the inner loop on small integers (V8 keeps them unboxed).
  const qv = Int32Array.from(query);
  let floor = -Infinity;
  for (let r = 0; r < rows; r++) {
    const n = norms[r]!;
    if (n === 0 || (skip && skip(r))) continue;
    let dot = 0;
    const off = r * dim;
    for (let i = 0; i < dim; i++) dot += qv[i]! * codes[off + i]!;
    const sim = dot / (qn * n);
    if (best.length < k || sim > floor) {
      let at = best.length;
      while (at > 0 && best[at - 1]!.similarity < sim) at--;
      best.splice(at, 0, { row: r, similarity: sim });
      if (best.length > k) best.pop();
      floor = best[best.length - 1]!.similarity;
    }
  }
  return best;
}
