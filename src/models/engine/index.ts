import type { EngineConfig } from '../../config/sections/engine.js';
import { EarshotError, isEarshotError } from '../../errors.js';
import type { EmbeddingEngine, EngineKind, ModelGraph, Weights } from '../contracts.js';
import { createOnnxEngine, loadOrt, type OnnxEngineOptions,openCachedOnnxEngine } from './onnx.js';
import { createTfjsEngine, probeTfjsBackends, type TfjsBackendPreference } from './tfjs.js';

export { runBatched } from './batched.js';
export { createOnnxEngine } from './onnx.js';
export { createTfjsEngine } from './tfjs.js';

/** The ONNX engine's options plus the choice of engine; tfjs reads `threads` only. */
export interface EngineOptions extends OnnxEngineOptions {
  readonly kind: 'auto' | EngineKind;
  readonly tfjsBackend: TfjsBackendPreference;
}

export function engineOptions(cfg: EngineConfig, extra: Partial<Pick<EngineOptions, 'cacheDir' | 'weightsDigest' | 'spinning' | 'cacheStamp'>> = {}): EngineOptions {
  return { kind: cfg.kind, tfjsBackend: cfg.tfjsBackend, threads: cfg.threads, memoryArena: cfg.memoryArena, ...extra };
}

export interface EngineAvailability {
  readonly kind: EngineKind;
  readonly backend: string;
  readonly available: boolean;
  /** Why not, when unavailable. */
  readonly reason?: string;
}

/** Every engine/backend this install could run, fastest first, with the reason for each one missing. */
export async function availableEngines(): Promise<EngineAvailability[]> {
  const out: EngineAvailability[] = [];
  try {
    await loadOrt();
    out.push({ kind: 'onnx', backend: 'cpu', available: true });
  } catch (e) {
    out.push({ kind: 'onnx', backend: 'cpu', available: false, reason: (e as Error).message });
  }
  for (const p of await probeTfjsBackends()) out.push({ kind: 'tfjs', backend: p.backend, available: p.available, ...(p.reason ? { reason: p.reason } : {}) });
  return out;
}

/**
 * Compiles `graph` + `weights` on the requested engine. `auto` takes onnx when
 * onnxruntime-node loads (fastest measured here), else the best TF.js backend;
 * only ENGINE_UNAVAILABLE falls through, a bad model fails loudly.
 */
export async function createEngine(graph: ModelGraph, weights: Weights, opts: EngineOptions): Promise<EmbeddingEngine> {
  const onnx = () => createOnnxEngine(graph, weights, opts);
  const tfjs = () => createTfjsEngine(graph, weights, { backend: opts.tfjsBackend, threads: opts.threads });
  if (opts.kind === 'onnx') return onnx();
  if (opts.kind === 'tfjs') return tfjs();
  try {
    return await onnx();
  } catch (e) {
    if (!isEarshotError(e, 'ENGINE_UNAVAILABLE')) throw e;
    try {
      return await tfjs();
    } catch (e2) {
      throw new EarshotError('ENGINE_UNAVAILABLE', `no engine available: ${(e as Error).message}; ${(e2 as Error).message}`);
    }
  }
}

/**
 * createEngine for weights that are expensive to load (a model directory): when the
 * ONNX engine would be chosen and has a fresh compiled graph for `weightsDigest` in
 * `cacheDir`, it starts from that without calling `loadWeights` at all.
 */
export async function createEngineLazy(graph: ModelGraph, loadWeights: () => Weights, opts: EngineOptions & { readonly cacheDir: string; readonly weightsDigest: string }): Promise<EmbeddingEngine> {
  if (opts.kind !== 'tfjs') {
    try {
      const cached = await openCachedOnnxEngine(graph, opts);
      if (cached) return cached;
    } catch (e) {
      // A missing runtime falls through to createEngine, which picks tfjs for 'auto'.
      if (!isEarshotError(e, 'ENGINE_UNAVAILABLE')) throw e;
    }
  }
  return createEngine(graph, loadWeights(), opts);
}
