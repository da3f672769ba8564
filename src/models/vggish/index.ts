import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { EngineConfig } from '../../config/sections/engine.js';
import type { FrontendConfig } from '../../config/sections/frontend.js';
import { EarshotError } from '../../errors.js';
import type { EmbeddingEngine, ModelManifest } from '../contracts.js';
import { type EngineOptions,runBatched } from '../engine/index.js';
import { type ManifestFields,writeModelDir } from '../modeldir.js';
import { logMelFrontend, type ModelSpec,openModel } from '../open.js';
import { formulaVggishWeights } from './formula.js';
import { validateVggishWeights, VGGISH_EMBEDDING_SIZE, VGGISH_INPUT_SHAPE, VGGISH_OUTPUT,vggishGraph } from './network.js';
import { PCA_EXTRA_KEY, PCA_FILE, pcaFromModelDir, type PcaParams,readPcaParams } from './postprocess.js';

export { fmix32, formulaUniform,formulaVggishWeights } from './formula.js';
export * from './network.js';
export { type NpyArray,parseNpy, parseNpz, readNpz } from './npz.js';
export { dequantize, PCA_EXTRA_KEY, PCA_FILE, pcaFromModelDir, type PcaParams,postprocess, readPcaParams } from './postprocess.js';

export const PATCH_VALUES = VGGISH_INPUT_SHAPE[0] * VGGISH_INPUT_SHAPE[1] * VGGISH_INPUT_SHAPE[2];

export interface VggishModel {
  readonly dir: string;
  readonly manifest: ModelManifest;
  /** The manifest's frontend overrides (validated; merged over config.frontend by callers). */
  readonly frontend: Partial<FrontendConfig>;
  readonly engine: EmbeddingEngine;
  /** Undefined when the model directory carries no PCA params (only --raw embeddings then). */
  readonly pca: PcaParams | undefined;
}

export function vggishSpec(dir: string): ModelSpec<Partial<FrontendConfig>> {
  return { architecture: 'vggish', kind: 'vggish', graph: vggishGraph, frontend: logMelFrontend(dir), checkWeights: validateVggishWeights };
}

/**
 * Opens a VGGish model directory on the configured engine (openModel: the first ONNX start
 * verifies and compiles weights.bin into `<dir>/cache`, later ones load the compiled graph).
 */
export async function openVggish(dir: string, engine: EngineConfig, tuning: Pick<EngineOptions, 'spinning'> = {}): Promise<VggishModel> {
  const m = await openModel(dir, engine, vggishSpec(dir), tuning);
  try {
    const pcaFile = m.manifest.extras?.[PCA_EXTRA_KEY];
    // PCA as weight tensors needs weights.bin read; skip that when the manifest lists none.
    const pca = pcaFile !== undefined ? readPcaParams(join(dir, pcaFile)) : m.manifest.weights.tensors.some((t) => t.name === 'pca/eigen_vectors') ? pcaFromModelDir({ dir, manifest: m.manifest, weights: m.weights(), labels: m.labels }) : undefined;
    return { dir, manifest: m.manifest, frontend: m.frontend, engine: m.engine, pca };
  } catch (err) {
    await m.engine.dispose();
    throw err;
  }
}

/** Raw embeddings [count, 128] for patches [count, 96, 64], in engine batches of `batchSize`. */
export async function embedPatches(engine: EmbeddingEngine, patches: Float32Array, count: number, batchSize: number): Promise<Float32Array> {
  if (patches.length !== count * PATCH_VALUES) throw new EarshotError('INPUT_INVALID', `patches hold ${patches.length} values, expected ${count} x 96 x 64`);
  return (await runBatched(engine, patches, count, batchSize))[VGGISH_OUTPUT]!;
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
