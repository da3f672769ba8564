import type { Weights } from '../contracts.js';
import { VGGISH_VARIABLES } from './network.js';

/**
 * Deterministic VGGish weights defined by a formula (shared/golden/vggish-net
 * index.json `doc`), so tests and benchmarks can rebuild the 288 MB network
 * bit-for-bit without shipping it. All arithmetic is exact uint32 (Math.imul, >>> 0).
 */
export function fmix32(h: number): number {
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** u(k, j) in [0, 1): variable k's j-th uniform. */
export function formulaUniform(k: number, j: number): number {
  const base = Math.imul(k + 1, 0x9e3779b9) >>> 0;
  return fmix32((j + base) >>> 0) / 4294967296;
}

/** Fills variable k (weights: scale sqrt(6 / fan_in); biases: 0.1). */
export function formulaTensor(k: number, shape: readonly number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const isBias = shape.length === 1;
  const fanIn = shape.length === 4 ? shape[0]! * shape[1]! * shape[2]! : shape[0]!;
  const scale = isBias ? 0.1 : Math.sqrt(6 / fanIn);
  const base = Math.imul(k + 1, 0x9e3779b9) >>> 0;
  const out = new Float32Array(n);
  for (let j = 0; j < n; j++) out[j] = scale * ((2 * fmix32((j + base) >>> 0)) / 4294967296 - 1);
  return out;
}

/** All 22 VGGish variables, k counting weights and biases separately in checkpoint order. */
export function formulaVggishWeights(): Weights {
  const w = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  let k = 0;
  for (const [name, shape] of VGGISH_VARIABLES) w.set(name, { shape, data: formulaTensor(k++, shape) });
  return w;
}
