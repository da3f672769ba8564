import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

import { EarshotError, toEarshotError } from '../../errors.js';
import type { EmbeddingEngine, ModelGraph, Weights } from '../contracts.js';
import { inferShapes } from '../graph/shapes.js';
import { digestWeights, dropEntries, findEntry, storeEntry } from './onnx-cache.js';
import { onnxEngine, type OnnxPart } from './onnx-run.js';
import { splitTrunk } from './split.js';

type Ort = typeof import('onnxruntime-node');

export interface OnnxEngineOptions {
  /** Intra-op threads; 0 = all cores. */
  readonly threads: number;
  /** Where compiled .onnx files are kept between starts (e.g. `<modeldir>/cache`); none = temp dir removed after load. */
  readonly cacheDir?: string;
  /** sha256 of the weights when the caller already has it (model manifest), so they are not hashed again. */
  readonly weightsDigest?: string;
  /** ORT worker threads busy-wait between ops (default off: it costs CPU on a shared box; see BENCHMARKS.md). */
  readonly spinning?: boolean;
  /** Keep activation buffers between runs (config engine.memoryArena, on by default; off here when not given). */
  readonly memoryArena?: boolean;
  /**
   * Identifies the weights' source file version (e.g. `size:mtime` of weights.bin). Stored
   * beside the compiled graph; a cached graph with a different stamp is stale.
   */
  readonly cacheStamp?: string;
}

export async function loadOrt(): Promise<Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    throw new EarshotError('ENGINE_UNAVAILABLE', `onnxruntime-node cannot be loaded: ${(e as Error).message}`, {}, { cause: e });
  }
}

export function sessionOptions(threads: number, spinning: boolean, memoryArena = false): import('onnxruntime-node').InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads > 0 ? threads : availableParallelism(),
    interOpNumThreads: 1,
    // The arena (config engine.memoryArena) reuses activation buffers between runs (BENCHMARKS.md).
    enableCpuMemArena: memoryArena,
    enableMemPattern: true,
    // Flushing denormals (tiny activations) to zero avoids the CPU's slow microcode path; the error is < 1e-38.
    extra: { session: { set_denormal_as_zero: '1', intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
}

/** `quiet`: failures are expected and handled (cache probe), so ORT should not print them. */
async function createSession(ort: Ort, modelPath: string, opts: OnnxEngineOptions, quiet = false): Promise<import('onnxruntime-node').InferenceSession> {
  try {
    return await ort.InferenceSession.create(modelPath, { ...sessionOptions(opts.threads, opts.spinning ?? false, opts.memoryArena ?? false), logSeverityLevel: quiet ? 4 : 3 });
  } catch (e) {
    throw toEarshotError(e, 'MODEL_INVALID');
  }
}

/** Opens one graph from its fresh cache entry in `dir`, compiling it there first when there is none. */
async function compilePart(ort: Ort, graph: ModelGraph, weights: Weights, dir: string, digest: string, opts: OnnxEngineOptions): Promise<OnnxPart> {
  const stamp = opts.cacheStamp ?? '';
  const e = findEntry(graph, dir, digest, stamp) ?? storeEntry(graph, weights, dir, digest, stamp);
  return { graph, session: await createSession(ort, e.modelPath, opts), shapes: e.info.outputShapes, largestTensorValues: e.info.largestTensorValues };
}

export async function createOnnxEngine(graph: ModelGraph, weights: Weights, opts: OnnxEngineOptions): Promise<EmbeddingEngine> {
  const ort = await loadOrt();
  inferShapes(graph, weights); // the whole graph's errors name its own layers, not a part's
  const digest = opts.weightsDigest ?? digestWeights(graph, weights);
  const dir = opts.cacheDir ?? mkdtempSync(join(tmpdir(), 'earshot-onnx-'));
  const opened: OnnxPart[] = [];
  const open = async (g: ModelGraph) => {
    const part = await compilePart(ort, g, weights, dir, digest, opts);
    opened.push(part);
    return part;
  };
  try {
    mkdirSync(dir, { recursive: true });
    const split = splitTrunk(graph);
    if (!split) return onnxEngine(ort, graph, { whole: await open(graph) });
    const trunk = await open(split.trunk);
    return onnxEngine(ort, graph, { trunk, head: await open(split.head(trunk.shapes[split.link]!)), link: split.link });
  } catch (e) {
    await Promise.all(opened.map((p) => p.session.release()));
    throw toEarshotError(e, 'MODEL_INVALID');
  } finally {
    if (opts.cacheDir === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Serves a graph compiled earlier for the same weights digest and stamp without
 * reading the weights at all. Undefined when there is no fresh entry.
 */
export async function openCachedOnnxEngine(graph: ModelGraph, opts: OnnxEngineOptions & { readonly cacheDir: string; readonly weightsDigest: string }): Promise<EmbeddingEngine | undefined> {
  const split = splitTrunk(graph);
  const fresh = (g: ModelGraph) => findEntry(g, opts.cacheDir, opts.weightsDigest, opts.cacheStamp ?? '');
  const first = fresh(split ? split.trunk : graph);
  if (!first) return undefined;
  const linkShape = split ? first.info.outputShapes[split.link] : undefined;
  const second = split && linkShape ? fresh(split.head(linkShape)) : undefined;
  if (split && !second) return undefined;
  const entries = second ? [first, second] : [first];
  const ort = await loadOrt();
  const opened: OnnxPart[] = [];
  try {
    for (const e of entries) opened.push({ graph: e.graph, session: await createSession(ort, e.modelPath, opts, true), shapes: e.info.outputShapes, largestTensorValues: e.info.largestTensorValues });
  } catch {
    // A damaged cache entry (truncated data file, foreign edit) is dropped and recompiled by the caller.
    await Promise.all(opened.map((p) => p.session.release()));
    dropEntries(opts.cacheDir, entries);
    return undefined;
  }
  return onnxEngine(ort, graph, split ? { trunk: opened[0]!, head: opened[1]!, link: split.link } : { whole: opened[0]! });
}
