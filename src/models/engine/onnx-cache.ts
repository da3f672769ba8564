import { createHash } from 'node:crypto';
import { closeSync, existsSync, ftruncateSync, openSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

import { EarshotError } from '../../errors.js';
import type { ModelGraph, Weights } from '../contracts.js';
import { inferShapes, layerWeightNames, outputShapes, size } from '../graph/shapes.js';
import { compileOnnx, type CompileOptions,ONNX_CONVERTER_VERSION, tensorBytes, withExternalData } from './onnx-graph.js';
import { encodeModel } from './onnx-proto.js';

/**
 * The compiled-graph cache: `<dir>/<key>.onnx` (+ `.onnx.data`) and a `<key>.json` sidecar.
 * The key covers the converter version, the graph and the weights digest; the sidecar's
 * stamp names the weights file's version, so an edited weights file makes the entry stale.
 */

/** Sidecar of a cached graph: enough to serve it without reading the weights again. */
export interface CacheInfo {
  readonly stamp: string;
  readonly outputShapes: Record<string, readonly number[]>;
  /** Values in the graph's largest per-example tensor (input or any layer output). */
  readonly largestTensorValues: number;
}

export interface CacheEntry {
  readonly graph: ModelGraph;
  readonly key: string;
  readonly modelPath: string;
  readonly info: CacheInfo;
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
    // Zero-pad to the aligned end so the last tensor's mapping never runs past EOF.
    ftruncateSync(fd, totalBytes);
  } finally {
    closeSync(fd);
  }
  renameSync(dataTmp, join(dir, dataName));
  writeFileSync(modelPath + suffix, encodeModel(model));
  renameSync(modelPath + suffix, modelPath);
  return modelPath;
}

function readCacheInfo(dir: string, key: string): CacheInfo | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, `${key}.json`), 'utf8')) as CacheInfo;
  } catch {
    return undefined;
  }
}

/** The complete entry in `dir` for this graph, weights digest and stamp, if there is one. */
export function findEntry(graph: ModelGraph, dir: string, digest: string, stamp: string): CacheEntry | undefined {
  const key = onnxCacheKey(graph, digest);
  const info = readCacheInfo(dir, key);
  const modelPath = join(dir, `${key}.onnx`);
  if (!existsSync(modelPath) || !info || info.stamp !== stamp) return undefined;
  if (graph.outputs.some((o) => !info.outputShapes[o]) || !(info.largestTensorValues > 0)) return undefined;
  return { graph, key, modelPath, info };
}

/** Compiles `graph` into `dir` and records its sidecar (the sidecar last: it marks the entry complete). */
export function storeEntry(graph: ModelGraph, weights: Weights, dir: string, digest: string, stamp: string): CacheEntry {
  const infos = inferShapes(graph, weights);
  const info: CacheInfo = { stamp, outputShapes: outputShapes(graph, infos), largestTensorValues: Math.max(size(graph.inputShape), ...infos.map((i) => size(i.outputShape))) };
  const key = onnxCacheKey(graph, digest);
  const modelPath = writeOnnxFiles(graph, weights, dir, key);
  const side = join(dir, `${key}.json`);
  writeFileSync(`${side}.tmp-${process.pid}`, JSON.stringify(info));
  renameSync(`${side}.tmp-${process.pid}`, side);
  return { graph, key, modelPath, info };
}

/** Removes entries (a damaged one is recompiled by the next start). */
export function dropEntries(dir: string, entries: readonly CacheEntry[]): void {
  for (const e of entries) for (const f of [`${e.key}.json`, `${e.key}.onnx`, `${e.key}.onnx.data`]) rmSync(join(dir, f), { force: true });
}
