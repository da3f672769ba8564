import { createHash } from 'node:crypto';
import { existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EarshotError, toEarshotError } from '../../errors.js';
import type { EmbeddingEngine, ModelGraph, Weights } from '../contracts.js';
import { inferShapes, layerWeightNames, outputShapes, size } from '../graph/shapes.js';
import { compileOnnx, ONNX_CONVERTER_VERSION, tensorBytes, withExternalData, type CompileOptions } from './onnx-graph.js';
import { encodeModel } from './onnx-proto.js';
import { onnxEngine, type OnnxPart } from './onnx-run.js';
import { splitTrunk } from './split.js';

type Ort = typeof import('onnxruntime-node');

export interface OnnxEngineOptions {
  /** Intra-op threads; 0 = all cores. */
  readonly threads: number;
  /** Where compiled .onnx files are kept between starts (e.g. `<modeldir>/cache`); none = temp dir removed after load. */
  readonly cacheDir?: string;
  /** sha256 of the weights when the caller already has it (model manifest), to skip rehashing ~300 MB. */
  readonly weightsDigest?: string;
  /**
   * ORT worker threads busy-wait between ops (default off). Measured on VGGish with the 2 cores
   * shared: spinning raised CPU per patch at batch 1 by ~30% and lowered throughput; it can win
   * a few % on an otherwise idle machine.
   */
  readonly spinning?: boolean;
  /** Keep activation buffers between runs (config engine.memoryArena, on by default; off here when not given). */
  readonly memoryArena?: boolean;
  /**
   * Identifies the weights' source file version (e.g. `size:mtime` of weights.bin). Stored
   * beside the compiled graph; a cached graph with a different stamp is stale.
   */
  readonly cacheStamp?: string;
}

/** Sidecar of a cached graph: enough to serve it without reading the weights again. */
interface CacheInfo {
  readonly stamp: string;
  readonly outputShapes: Record<string, readonly number[]>;
  /** Values in the graph's largest per-example tensor (input or any layer output). */
  readonly largestTensorValues: number;
}

export async function loadOrt(): Promise<Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (e) {
    throw new EarshotError('ENGINE_UNAVAILABLE', `onnxruntime-node cannot be loaded: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** sha256 over the names, shapes and data of the weights the graph uses. */
export function digestWeights(graph: ModelGraph, weights: Weights): string {
  const h = createHash('sha256');
  const names = new Set<string>();
  for (const l of graph.layers) for (const n of layerWeightNames(l)) names.add(n);
  for (const n of [...names].sort()) {
    const w = weights.get(n);
    if (!w) continue; // inferShapes reports it
    h.update(`${n}[${w.shape.join(',')}]`);
    h.update(new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength));
  }
  return h.digest('hex');
}

export function onnxCacheKey(graph: ModelGraph, weightsDigest: string): string {
  return createHash('sha256').update(ONNX_CONVERTER_VERSION).update(JSON.stringify(graph)).update(weightsDigest).digest('hex').slice(0, 32);
}

/** Writes `<dir>/<key>.onnx` + `<key>.onnx.data` atomically (data first, model last: the model's presence means complete). */
export function writeOnnxFiles(graph: ModelGraph, weights: Weights, dir: string, key: string, compile?: CompileOptions): string {
  const modelPath = join(dir, `${key}.onnx`);
  const dataName = `${key}.onnx.data`;
  const compiled = compileOnnx(graph, weights, compile);
  const { model, offsets, totalBytes } = withExternalData(compiled, dataName);
  const suffix = `.tmp-${process.pid}-${Date.now()}`;
  const dataTmp = join(dir, dataName + suffix);
  const fd = openSync(dataTmp, 'w');
  try {
    compiled.tensors.forEach((t, i) => {
      const d = t.data();
      if (d.length * 4 !== tensorBytes(t)) throw new EarshotError('INTERNAL', `onnx tensor ${t.name} has ${d.length} values for dims [${t.dims.join(',')}]`);
      writeSync(fd, new Uint8Array(d.buffer, d.byteOffset, d.byteLength), 0, d.byteLength, offsets[i]!);
    });
    // Zero-pad to the aligned end so the last tensor's mapping never runs past EOF. (Not by writing
    // a byte at totalBytes - 1: when the last tensor ends exactly there, that byte is its own.)
    ftruncateSync(fd, totalBytes);
  } finally {
    closeSync(fd);
  }
  renameSync(dataTmp, join(dir, dataName));
  writeFileSync(modelPath + suffix, encodeModel(model));
  renameSync(modelPath + suffix, modelPath);
  return modelPath;
}

export function sessionOptions(threads: number, spinning: boolean, memoryArena = false): import('onnxruntime-node').InferenceSession.SessionOptions {
  return {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads > 0 ? threads : availableParallelism(),
    interOpNumThreads: 1,
    // The arena (config engine.memoryArena) reuses activation buffers between runs; with graphs
    // split into trunk and head (split.ts) it holds a few MB. Prepacking (on) costs a load-time
    // peak but ~10% less CPU.
    enableCpuMemArena: memoryArena,
    enableMemPattern: true,
    // Flushing denormals (tiny activations) to zero avoids the CPU's slow microcode path; the error is < 1e-38.
    extra: { session: { set_denormal_as_zero: '1', intra_op: { allow_spinning: spinning ? '1' : '0' } } },
  };
}

function readCacheInfo(dir: string, key: string): CacheInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, `${key}.json`), 'utf8')) as CacheInfo;
  } catch {
    return undefined;
  }
}

/** `quiet`: failures are expected and handled (cache probe), so ORT should not print them. */
async function createSession(ort: Ort, modelPath: string, opts: OnnxEngineOptions, quiet = false): Promise<import('onnxruntime-node').InferenceSession> {
  try {
    return await ort.InferenceSession.create(modelPath, { ...sessionOptions(opts.threads, opts.spinning ?? false, opts.memoryArena ?? false), logSeverityLevel: quiet ? 4 : 3 });
  } catch (e) {
    throw toEarshotError(e, 'MODEL_INVALID');
  }
}

/** Compiles (or finds fresh in `dir`) one graph and opens it. */
async function compilePart(ort: Ort, graph: ModelGraph, weights: Weights, dir: string, digest: string, opts: OnnxEngineOptions): Promise<OnnxPart> {
  const infos = inferShapes(graph, weights);
  const shapes = outputShapes(graph, infos);
  const largestTensorValues = Math.max(size(graph.inputShape), ...infos.map((i) => size(i.outputShape)));
  const key = onnxCacheKey(graph, digest);
  const stamp = opts.cacheStamp ?? '';
  const fresh = freshEntry(graph, dir, digest, stamp) !== undefined;
  const modelPath = fresh ? join(dir, `${key}.onnx`) : writeOnnxFiles(graph, weights, dir, key);
  if (!fresh) {
    const side = join(dir, `${key}.json`);
    writeFileSync(`${side}.tmp-${process.pid}`, JSON.stringify({ stamp, outputShapes: shapes, largestTensorValues } satisfies CacheInfo));
    renameSync(`${side}.tmp-${process.pid}`, side);
  }
  return { graph, session: await createSession(ort, modelPath, opts), shapes, largestTensorValues };
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

interface CacheEntry {
  readonly graph: ModelGraph;
  readonly key: string;
  readonly info: CacheInfo;
}

/** The complete cache entry in `dir` for this graph, weights digest and stamp, if there is one. */
function freshEntry(graph: ModelGraph, dir: string, digest: string, stamp: string): CacheEntry | undefined {
  const key = onnxCacheKey(graph, digest);
  const info = readCacheInfo(dir, key);
  if (!existsSync(join(dir, `${key}.onnx`)) || !info || info.stamp !== stamp) return undefined;
  if (graph.outputs.some((o) => !info.outputShapes[o]) || !(info.largestTensorValues > 0)) return undefined;
  return { graph, key, info };
}

/**
 * Serves a graph compiled earlier for the same weights digest and stamp without
 * touching the weights (a start then costs one ORT load per part, and the ~300 MB of
 * JS-side weights are never read). Undefined when there is no fresh entry.
 */
export async function openCachedOnnxEngine(graph: ModelGraph, opts: OnnxEngineOptions & { readonly cacheDir: string; readonly weightsDigest: string }): Promise<EmbeddingEngine | undefined> {
  const split = splitTrunk(graph);
  const fresh = (g: ModelGraph) => freshEntry(g, opts.cacheDir, opts.weightsDigest, opts.cacheStamp ?? '');
  const first = fresh(split ? split.trunk : graph);
  if (!first) return undefined;
  const linkShape = split ? first.info.outputShapes[split.link] : undefined;
  const second = split && linkShape ? fresh(split.head(linkShape)) : undefined;
  if (split && !second) return undefined;
  const entries = second ? [first, second] : [first];
  const ort = await loadOrt();
  const opened: OnnxPart[] = [];
  try {
    for (const e of entries) opened.push({ graph: e.graph, session: await createSession(ort, join(opts.cacheDir, `${e.key}.onnx`), opts, true), shapes: e.info.outputShapes, largestTensorValues: e.info.largestTensorValues });
  } catch {
    // A damaged cache entry (truncated data file, foreign edit) is dropped and recompiled by the caller.
    await Promise.all(opened.map((p) => p.session.release()));
    for (const e of entries) for (const f of [`${e.key}.json`, `${e.key}.onnx`, `${e.key}.onnx.data`]) rmSync(join(opts.cacheDir, f), { force: true });
    return undefined;
  }
  return onnxEngine(ort, graph, split ? { trunk: opened[0]!, head: opened[1]!, link: split.link } : { whole: opened[0]! });
}
