import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';

import { EarshotError } from '../../errors.js';
import { halfToFloat, numel, type ProgressFn, type RawTensor, type ReadResult,shapeStr } from './tensors.js';

/**
 * TF.js layers/graph model weights: model.json's `weightsManifest` lists groups
 * of shard files; each group's shards concatenated hold its weights in order,
 * float32 or quantized (uint8/uint16 affine with scale/min, or float16).
 */
interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; scale?: number; min?: number };
}

interface ManifestGroup {
  paths: string[];
  weights: ManifestWeight[];
}

function bad(file: string, msg: string): EarshotError {
  return new EarshotError('MODEL_INVALID', `${file}: ${msg}`, { file });
}

function parseManifest(file: string): ManifestGroup[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw bad(file, `not valid JSON (${(e as Error).message})`);
  }
  const groups = (json as { weightsManifest?: unknown }).weightsManifest;
  if (!Array.isArray(groups)) throw bad(file, 'no weightsManifest array (not a TF.js model.json)');
  return groups.map((g, gi) => {
    const grp = g as Partial<ManifestGroup>;
    if (!Array.isArray(grp.paths) || !grp.paths.every((p) => typeof p === 'string')) throw bad(file, `weightsManifest[${gi}].paths is not a list of strings`);
    if (!Array.isArray(grp.weights)) throw bad(file, `weightsManifest[${gi}].weights is not a list`);
    for (const w of grp.weights) {
      if (typeof w?.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every((d: unknown) => Number.isInteger(d) && (d as number) >= 0) || typeof w.dtype !== 'string') {
        throw bad(file, `weightsManifest[${gi}] has a malformed weight entry ${JSON.stringify(w).slice(0, 120)}`);
      }
    }
    return grp as ManifestGroup;
  });
}

function bytesPerValue(w: ManifestWeight): number {
  const q = w.quantization?.dtype;
  if (q === 'uint8') return 1;
  if (q === 'uint16' || q === 'float16') return 2;
  if (q !== undefined) return -1;
  return w.dtype === 'float32' || w.dtype === 'int32' ? 4 : w.dtype === 'bool' ? 1 : -1;
}

function decode(w: ManifestWeight, b: Uint8Array, file: string): Float32Array {
  const n = numel(w.shape);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const out = new Float32Array(n);
  const q = w.quantization;
  if (!q) {
    new Uint8Array(out.buffer).set(b);
    return out;
  }
  if (q.dtype === 'float16') {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
    return out;
  }
  if (typeof q.scale !== 'number' || typeof q.min !== 'number') throw bad(file, `weight ${w.name}: ${q.dtype} quantization without scale/min`);
  for (let i = 0; i < n; i++) out[i] = (q.dtype === 'uint8' ? b[i]! : dv.getUint16(2 * i, true)) * q.scale + q.min;
  return out;
}

/** Shard paths must stay inside the model directory: model.json comes from anywhere. */
function shardPath(dir: string, p: string, file: string): string {
  const full = resolve(dir, p);
  if (!full.startsWith(resolve(dir) + sep)) throw bad(file, `shard path ${p} points outside the model directory`);
  return full;
}

export function readTfjs(modelJson: string, onProgress?: ProgressFn): ReadResult {
  if (!existsSync(modelJson)) throw new EarshotError('MODEL_NOT_FOUND', `TF.js model ${modelJson} not found`, { file: modelJson });
  const dir = dirname(modelJson);
  const groups = parseManifest(modelJson);
  const total = groups.flatMap((g) => g.paths).reduce((a, p) => a + (existsSync(shardPath(dir, p, modelJson)) ? statSync(shardPath(dir, p, modelJson)).size : 0), 0);
  const tensors: RawTensor[] = [];
  const skipped: Array<{ name: string; dtype: string }> = [];
  let done = 0;
  for (const g of groups) {
    const shards = g.paths.map((p) => {
      const full = shardPath(dir, p, modelJson);
      if (!existsSync(full)) throw new EarshotError('MODEL_NOT_FOUND', `${modelJson}: weight shard ${p} not found`, { file: full });
      const b = readFileSync(full);
      done += b.length;
      onProgress?.(done, total);
      return b;
    });
    const size = shards.reduce((a, s) => a + s.length, 0);
    const data = new Uint8Array(size);
    let o = 0;
    for (const s of shards) {
      data.set(s, o);
      o += s.length;
    }
    let off = 0;
    for (const w of g.weights) {
      const width = bytesPerValue(w);
      if (width < 0) throw new EarshotError('DATA_UNSUPPORTED', `${modelJson}: weight ${w.name} has unsupported dtype ${w.quantization?.dtype ?? w.dtype}`, { file: modelJson, tensor: w.name });
      const len = numel(w.shape) * width;
      if (off + len > size) throw new EarshotError('DATA_CORRUPT', `${modelJson}: weight ${w.name} ${shapeStr(w.shape)} needs bytes ${off}..${off + len} but the shards (${g.paths.join(', ')}) hold ${size} bytes (truncated?)`, { file: modelJson, tensor: w.name });
      const bytes = data.subarray(off, off + len);
      off += len;
      if (w.dtype !== 'float32') skipped.push({ name: w.name, dtype: w.dtype });
      else tensors.push({ name: w.name, shape: w.shape, data: decode(w, bytes, modelJson) });
    }
    if (off !== size) throw new EarshotError('DATA_CORRUPT', `${modelJson}: shards ${g.paths.join(', ')} hold ${size} bytes, the manifest accounts for ${off}`, { file: modelJson });
  }
  return { tensors, skipped };
}

/** Writes model.json + shards (float32, `shardBytes` per file) as tfjs-converter does for weights. */
export function writeTfjs(dir: string, tensors: readonly RawTensor[], shardBytes = 4 << 20): string {
  mkdirSync(dir, { recursive: true });
  const total = tensors.reduce((a, t) => a + t.data.byteLength, 0);
  const all = new Uint8Array(total);
  let o = 0;
  for (const t of tensors) {
    all.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), o);
    o += t.data.byteLength;
  }
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const p = `group1-shard${i + 1}of${count}.bin`;
    writeFileSync(join(dir, p), all.subarray(i * shardBytes, Math.min(total, (i + 1) * shardBytes)));
    paths.push(p);
  }
  const manifest = {
    format: 'layers-model',
    generatedBy: 'earshot',
    convertedBy: 'earshot writeTfjs',
    weightsManifest: [{ paths, weights: tensors.map((t) => ({ name: t.name, shape: [...t.shape], dtype: 'float32' })) }],
  };
  const file = join(dir, 'model.json');
  writeFileSync(file, JSON.stringify(manifest));
  return file;
}
