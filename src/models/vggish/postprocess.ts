import { join } from 'node:path';

import { EarshotError } from '../../errors.js';
import type { ModelDir } from '../modeldir.js';
import { VGGISH_EMBEDDING_SIZE } from './network.js';
import { type NpyArray,readNpz } from './npz.js';

/**
 * AudioSet's release postprocess of raw VGGish embeddings: PCA (whitening),
 * clip to [-2, 2], 8-bit quantisation. Computed in float64 like the numpy
 * original so our uint8 match the published features.
 */
export interface PcaParams {
  /** [128, 128] row-major: row i is the i-th eigenvector. */
  readonly eigenVectors: Float64Array;
  readonly means: Float64Array;
}

export const PCA_EXTRA_KEY = 'pca';
export const PCA_FILE = 'vggish_pca_params.npz';
const QUANT_MIN = -2;
const QUANT_MAX = 2;

function expectArray(arrays: Map<string, NpyArray>, key: string, shape: readonly number[], source: string): Float64Array {
  const a = arrays.get(key);
  if (!a) throw new EarshotError('DATA_NOT_FOUND', `${source} has no array '${key}' (found: ${[...arrays.keys()].join(', ') || 'none'})`, { file: source, key });
  if (a.shape.length !== shape.length || a.shape.some((d, i) => d !== shape[i])) {
    throw new EarshotError('DATA_CORRUPT', `${source}: '${key}' has shape (${a.shape.join(', ')}), expected (${shape.join(', ')})`, { file: source, key });
  }
  return a.data;
}

/** Reads vggish_pca_params.npz (pca_eigen_vectors [128,128], pca_means [128]). */
export function readPcaParams(path: string): PcaParams {
  const arrays = readNpz(path);
  const d = VGGISH_EMBEDDING_SIZE;
  return { eigenVectors: expectArray(arrays, 'pca_eigen_vectors', [d, d], path), means: expectArray(arrays, 'pca_means', [d], path) };
}

/**
 * PCA params of a VGGish model directory: the npz named by manifest.extras.pca
 * (copied verbatim, float64), else float32 tensors `pca/eigen_vectors` and
 * `pca/means` in weights.bin. Undefined when the directory has neither.
 */
export function pcaFromModelDir(md: ModelDir): PcaParams | undefined {
  const file = md.manifest.extras?.[PCA_EXTRA_KEY];
  if (file !== undefined) return readPcaParams(join(md.dir, file));
  const ev = md.weights.get('pca/eigen_vectors');
  const mean = md.weights.get('pca/means');
  if (ev && mean) return { eigenVectors: Float64Array.from(ev.data), means: Float64Array.from(mean.data) };
  return undefined;
}

/** Raw embeddings [count, 128] -> uint8 [count, 128]: floor((clip(pca) + 2) * 255 / 4). */
export function postprocess(emb: Float32Array, count: number, pca: PcaParams): Uint8Array {
  const d = VGGISH_EMBEDDING_SIZE;
  if (emb.length !== count * d) throw new EarshotError('INPUT_INVALID', `embeddings have ${emb.length} values, expected ${count} x ${d}`);
  const out = new Uint8Array(count * d);
  const centred = new Float64Array(d);
  for (let n = 0; n < count; n++) {
    for (let j = 0; j < d; j++) centred[j] = emb[n * d + j]! - pca.means[j]!;
    for (let i = 0; i < d; i++) {
      let x = 0;
      for (let j = 0; j < d; j++) x += pca.eigenVectors[i * d + j]! * centred[j]!;
      x = Math.min(Math.max(x, QUANT_MIN), QUANT_MAX);
      out[n * d + i] = Math.floor(((x - QUANT_MIN) * 255) / (QUANT_MAX - QUANT_MIN));
    }
  }
  return out;
}

export { dequantize } from '../../classify/dequantize.js';
