import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EarshotError } from '../../errors.js';
import type { EngineConfig } from '../../config/sections/engine.js';
import type { EmbeddingEngine, ModelManifest } from '../contracts.js';
import { modelCacheDir, readManifest, readModelDir, writeModelDir, type ManifestFields, type ModelDir } from '../modeldir.js';
import { createEngine, createEngineLazy, engineOptions, type EngineOptions } from '../engine/index.js';
import { formulaVggishWeights } from './formula.js';
import { validateVggishWeights, vggishGraph, VGGISH_EMBEDDING_SIZE, VGGISH_INPUT_SHAPE, VGGISH_OUTPUT } from './network.js';
import { pcaFromModelDir, readPcaParams, PCA_EXTRA_KEY, PCA_FILE, type PcaParams } from './postprocess.js';

export * from './network.js';
export { formulaVggishWeights, fmix32, formulaUniform } from './formula.js';
export { postprocess, dequantize, readPcaParams, pcaFromModelDir, PCA_EXTRA_KEY, PCA_FILE, type PcaParams } from './postprocess.js';
export { readNpz, parseNpz, parseNpy, type NpyArray } from './npz.js';

export const PATCH_VALUES = VGGISH_INPUT_SHAPE[0] * VGGISH_INPUT_SHAPE[1] * VGGISH_INPUT_SHAPE[2];

export interface VggishModel {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly engine: EmbeddingEngine;
  /** Undefined when the model directory carries no PCA params (only --raw embeddings then). */
  readonly pca: PcaParams | undefined;
}


function weightsStamp(dir: string, manifest: ModelManifest): string {
  const st = statSync(join(dir, manifest.weights.file));
  return `${st.ino}:${st.size}:${Math.floor(st.mtimeMs)}`;
}

/**
 * Opens a VGGish model directory on the configured engine. The first ONNX start
 * reads and verifies weights.bin (sha256) and compiles it into `<dir>/cache`;
 * later starts load the compiled graph directly while weights.bin's size and
 * mtime (and inode) are unchanged. Weights are not retained after compiling (except by tfjs-cpu).
 */
export async function openVggish(dir: string, engine: EngineConfig, tuning: Pick<EngineOptions, 'spinning'> = {}): Promise<VggishModel> {
  const manifest = readManifest(dir, 'vggish');
  if (manifest.architecture !== 'vggish') throw new EarshotError('MODEL_INVALID', `${dir} holds a '${manifest.architecture}' model, not vggish`, { dir });
  let md: ModelDir | undefined;
  const load = (): ModelDir => {
    md ??= readModelDir(dir);
    validateVggishWeights(md.weights);
    return md;
  };
  const cacheDir = modelCacheDir(dir);
  const opts = engineOptions(engine, { ...tuning, weightsDigest: manifest.weights.sha256, ...(cacheDir ? { cacheDir, cacheStamp: weightsStamp(dir, manifest) } : {}) });
  const e = cacheDir ? await createEngineLazy(vggishGraph(), () => load().weights, { ...opts, cacheDir, weightsDigest: manifest.weights.sha256 }) : await createEngine(vggishGraph(), load().weights, opts);
  try {
    const pcaFile = manifest.extras?.[PCA_EXTRA_KEY];
    // PCA as weight tensors needs weights.bin read; skip that when the manifest lists none.
    const pca = pcaFile !== undefined ? readPcaParams(join(dir, pcaFile)) : manifest.weights.tensors.some((t) => t.name === 'pca/eigen_vectors') ? pcaFromModelDir(load()) : undefined;
    return { dir, manifest, engine: e, pca };
  } catch (err) {
    await e.dispose();
    throw err;
  }
}

/** Raw embeddings [count, 128] for patches [count, 96, 64], in engine batches of `batchSize`. */
export async function embedPatches(engine: EmbeddingEngine, patches: Float32Array, count: number, batchSize: number): Promise<Float32Array> {
  if (patches.length !== count * PATCH_VALUES) throw new EarshotError('INPUT_INVALID', `patches hold ${patches.length} values, expected ${count} x 96 x 64`);
  const out = new Float32Array(count * VGGISH_EMBEDDING_SIZE);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const r = await engine.run(patches.subarray(start * PATCH_VALUES, (start + n) * PATCH_VALUES), n);
    out.set(r[VGGISH_OUTPUT]!, start * VGGISH_EMBEDDING_SIZE);
  }
  return out;
}

export const FORMULA_MANIFEST: ManifestFields = {
  name: 'vggish',
  architecture: 'vggish',
  version: 'formula-1',
  input: { name: 'input', shape: [...VGGISH_INPUT_SHAPE] },
  outputs: [{ name: VGGISH_OUTPUT, shape: [VGGISH_EMBEDDING_SIZE] }],
  provenance: { source: 'formula weights (shared/golden/vggish-net index.json doc); not a trained model' },
};

/** Writes a VGGish model directory with formula weights, plus the PCA npz copied verbatim when given. */
export function writeFormulaVggishDir(dir: string, pcaPath?: string): ModelManifest {
  const extras: Record<string, Uint8Array> = {};
  if (pcaPath !== undefined) {
    try {
      extras[PCA_FILE] = readFileSync(pcaPath);
    } catch (e) {
      throw new EarshotError('DATA_NOT_FOUND', `cannot read PCA params ${pcaPath}: ${(e as Error).message}`, { file: pcaPath });
    }
  }
  const fields: ManifestFields = { ...FORMULA_MANIFEST, ...(pcaPath !== undefined ? { extras: { [PCA_EXTRA_KEY]: PCA_FILE } } : {}) };
  return writeModelDir(dir, fields, formulaVggishWeights(), undefined, extras);
}
