import { createHash } from 'node:crypto';
import { existsSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EarshotError, toEarshotError } from '../../errors.js';
import type { EmbeddingEngine, ModelGraph, Weights } from '../contracts.js';
import { inferShapes, outputShapes, size } from '../graph/shapes.js';
import { compileOnnx, ONNX_CONVERTER_VERSION, tensorBytes, withExternalData, type CompileOptions } from './onnx-graph.js';
import { encodeModel } from './onnx-proto.js';

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
  for (const l of graph.layers) {
    if ('weights' in l) names.add(l.weights);
    if ('bias' in l && l.bias !== undefined) names.add(l.bias);
  }
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
    // Measured on VGGish at batch 32: the arena keeps ~85 MB of activations resident and saves the
    // page faults of fresh buffers on every run (+10-12% patches/s); at batch 1 it holds ~4 MB.
    // Prepacking (on) costs a load-time peak but ~10% less CPU.
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

export async function createOnnxEngine(graph: ModelGraph, weights: Weights, opts: OnnxEngineOptions): Promise<EmbeddingEngine> {
  const ort = await loadOrt();
  const infos = inferShapes(graph, weights);
  const shapes = outputShapes(graph, infos);
  const key = onnxCacheKey(graph, opts.weightsDigest ?? digestWeights(graph, weights));
  const dir = opts.cacheDir ?? mkdtempSync(join(tmpdir(), 'earshot-onnx-'));
  let session: import('onnxruntime-node').InferenceSession;
  try {
    mkdirSync(dir, { recursive: true });
    const cached = join(dir, `${key}.onnx`);
    const stamp = opts.cacheStamp ?? '';
    const fresh = existsSync(cached) && readCacheInfo(dir, key)?.stamp === stamp;
    const modelPath = fresh ? cached : writeOnnxFiles(graph, weights, dir, key);
    if (!fresh) {
      const side = join(dir, `${key}.json`);
      writeFileSync(`${side}.tmp-${process.pid}`, JSON.stringify({ stamp, outputShapes: shapes } satisfies CacheInfo));
      renameSync(`${side}.tmp-${process.pid}`, side);
    }
    session = await createSession(ort, modelPath, opts);
  } catch (e) {
    throw toEarshotError(e, 'MODEL_INVALID');
  } finally {
    if (opts.cacheDir === undefined) rmSync(dir, { recursive: true, force: true });
  }
  return sessionEngine(ort, session, graph, shapes);
}

/**
 * Serves a graph compiled earlier for the same weights digest and stamp without
 * touching the weights (a start then costs one ORT load, and the ~300 MB of
 * JS-side weights are never read). Undefined when there is no fresh entry.
 */
export async function openCachedOnnxEngine(graph: ModelGraph, opts: OnnxEngineOptions & { readonly cacheDir: string; readonly weightsDigest: string }): Promise<EmbeddingEngine | undefined> {
  const key = onnxCacheKey(graph, opts.weightsDigest);
  const modelPath = join(opts.cacheDir, `${key}.onnx`);
  const info = readCacheInfo(opts.cacheDir, key);
  if (!existsSync(modelPath) || !info || info.stamp !== (opts.cacheStamp ?? '')) return undefined;
  if (graph.outputs.some((o) => !info.outputShapes[o])) return undefined;
  const ort = await loadOrt();
  try {
    return sessionEngine(ort, await createSession(ort, modelPath, opts, true), graph, info.outputShapes);
  } catch {
    // A damaged cache entry (truncated data file, foreign edit) is dropped and recompiled by the caller.
    for (const f of [`${key}.json`, `${key}.onnx`, `${key}.onnx.data`]) rmSync(join(opts.cacheDir, f), { force: true });
    return undefined;
  }
}

function sessionEngine(ort: Ort, session: import('onnxruntime-node').InferenceSession, graph: ModelGraph, shapes: Record<string, readonly number[]>): EmbeddingEngine {
  const inSize = size(graph.inputShape);
  let disposed = false;
  return {
    kind: 'onnx',
    backend: 'cpu',
    graph,
    async run(input, count) {
      if (disposed) throw new EarshotError('ENGINE_UNAVAILABLE', 'onnx engine has been disposed');
      if (!Number.isInteger(count) || count < 0 || input.length !== count * inSize) {
        throw new EarshotError('INPUT_INVALID', `input has ${input.length} values, expected ${count} x ${inSize} ([${graph.inputShape.join(',')}])`);
      }
      if (count === 0) return Object.fromEntries(graph.outputs.map((o) => [o, new Float32Array(0)]));
      const x = new ort.Tensor('float32', input, [count, ...graph.inputShape]);
      const results = await session.run({ input: x });
      x.dispose();
      const out: Record<string, Float32Array> = {};
      for (const name of graph.outputs) {
        const t = results[name]!;
        const data = t.data as Float32Array;
        if (data.length !== count * size(shapes[name]!)) throw new EarshotError('INTERNAL', `onnx output ${name} has ${data.length} values, expected ${count * size(shapes[name]!)}`);
        out[name] = data.slice();
      }
      for (const t of Object.values(results)) t.dispose();
      return out;
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await session.release();
    },
  };
}
