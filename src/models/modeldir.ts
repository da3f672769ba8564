import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { LabelInfo } from '../classify/contracts.js';
import { EarshotError } from '../errors.js';
import { writeDirAtomic, writeFileSyncDurable } from '../storage/atomic-file.js';
import type { ModelManifest, TensorSpec, Weights } from './contracts.js';
import { checkManifest } from './manifest-check.js';
import { align4, decodeTensor, encodeTensor, storedBytes, storedDtype, WEIGHT_DTYPES, type WeightDtype } from './weight-dtypes.js';

const MANIFEST = 'manifest.json';
const WEIGHTS = 'weights.bin';
const LABELS = 'labels.csv';

export interface ModelDir {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly weights: Weights;
  readonly labels: readonly LabelInfo[];
}

export type ManifestFields = Omit<ModelManifest, 'format' | 'formatVersion' | 'weights' | 'labels'>;

/**
 * `<dir>/cache` (created if missing) when the model directory is writable, else
 * undefined: engines keep compiled graphs there, or fall back to a temp dir.
 */
export function modelCacheDir(dir: string): string | undefined {
  const cache = join(dir, 'cache');
  try {
    mkdirSync(cache, { recursive: true });
    accessSync(cache, constants.W_OK);
    return cache;
  } catch {
    return undefined;
  }
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Parses `index,mid,display_name` CSV (AudioSet's class_labels_indices.csv and YAMNet's class map). */
export function parseLabelsCsv(text: string, source = 'labels.csv'): LabelInfo[] {
  const rows = parseCsv(text);
  const header = rows.shift();
  if (!header || header.length < 3) throw new EarshotError('MODEL_INVALID', `${source}: expected header index,mid,display_name`, { source });
  return rows
    .filter((r) => r.length >= 3 && r[0] !== '')
    .map((r, i) => {
      const index = Number(r[0]);
      if (!Number.isInteger(index) || index !== i) throw new EarshotError('MODEL_INVALID', `${source}: row ${i + 2} has index ${r[0]}, expected ${i}`, { source });
      return { index, id: r[1]!, name: r[2]! };
    });
}

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export function formatLabelsCsv(labels: readonly LabelInfo[]): string {
  return ['index,mid,display_name', ...labels.map((l) => `${l.index},${csvField(l.id)},${csvField(l.name)}`)].join('\n') + '\n';
}

/**
 * Writes a model directory atomically: everything goes to a sibling temp dir which
 * replaces `dir` by rename, so a crash never leaves a half-written model.
 */
export function writeModelDir(dir: string, fields: ManifestFields, weights: Weights, labels?: readonly LabelInfo[], extraFiles: Record<string, Uint8Array | string> = {}, dtype: WeightDtype = 'float32'): ModelManifest {
  const tensors: Array<TensorSpec & { offsetBytes: number; dtype?: WeightDtype }> = [];
  const encoded: Uint8Array[] = [];
  let total = 0;
  for (const [name, t] of weights) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new EarshotError('MODEL_SHAPE_MISMATCH', `tensor ${name}: shape [${t.shape.join(',')}] holds ${n} values, data has ${t.data.length}`, { tensor: name });
    const d = storedDtype(t.shape, dtype);
    tensors.push({ name, shape: [...t.shape], offsetBytes: total, ...(d === 'float32' ? {} : { dtype: d }) });
    const bytes = encodeTensor(t.data, t.shape, d);
    encoded.push(bytes);
    total = align4(total + bytes.byteLength);
  }
  const blob = new Uint8Array(total);
  encoded.forEach((b, i) => blob.set(b, tensors[i]!.offsetBytes));
  const manifest: ModelManifest = {
    format: 'earshot-model',
    formatVersion: 1,
    ...fields,
    weights: { file: WEIGHTS, sha256: sha256(blob), tensors },
    ...(labels ? { labels: { file: LABELS, count: labels.length } } : {}),
  };
  writeDirAtomic(dir, (tmp) => {
    writeFileSyncDurable(join(tmp, WEIGHTS), blob);
    if (labels) writeFileSyncDurable(join(tmp, LABELS), formatLabelsCsv(labels));
    for (const [name, data] of Object.entries(extraFiles)) writeFileSyncDurable(join(tmp, name), data);
    writeFileSyncDurable(join(tmp, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  });
  return manifest;
}

/** The command that creates each kind of model directory, for MODEL_NOT_FOUND messages. */
export type ModelKind = 'yamnet' | 'vggish' | 'classifier';
export function modelFixCommand(kind: ModelKind, dir: string): string {
  if (kind === 'yamnet') return `import one with \`earshot models import yamnet <yamnet.tflite> --out ${dir}\``;
  if (kind === 'vggish') return `fetch one with \`earshot models fetch vggish --out ${dir}\` (or \`earshot models import vggish <ckpt|.pth> --out ${dir}\`)`;
  return `train one with \`earshot train --data <tfrecords> --out ${dir}\``;
}

export function readManifest(dir: string, kind?: ModelKind): ModelManifest {
  const p = join(dir, MANIFEST);
  if (!existsSync(p)) throw new EarshotError('MODEL_NOT_FOUND', `no model directory at ${dir} (missing ${MANIFEST})${kind ? `; ${modelFixCommand(kind, dir)}` : ''}`, { dir, ...(kind ? { kind } : {}) });
  let m: unknown;
  try {
    m = JSON.parse(readFileSync(p, 'utf8'));
  } catch (e) {
    throw new EarshotError('MODEL_INVALID', `${p} is not valid JSON: ${(e as Error).message}`, { dir });
  }
  return checkManifest(m, dir, p);
}

/** Reads and verifies (sha256, tensor bounds) a model directory. */
export function readModelDir(dir: string, kind?: ModelKind): ModelDir {
  const manifest = readManifest(dir, kind);
  return { dir, manifest, weights: readWeights(dir, manifest), labels: readLabels(dir, manifest) };
}

/** The weights named by a checked manifest, verified against its sha256 and tensor bounds. */
export function readWeights(dir: string, manifest: ModelManifest): Weights {
  const wpath = join(dir, manifest.weights.file);
  if (!(existsSync(wpath) && statSync(wpath).isFile())) throw new EarshotError('MODEL_INVALID', `${dir}: weights file ${manifest.weights.file} is missing`, { dir });
  const blob = readFileSync(wpath);
  const digest = sha256(blob);
  if (digest !== manifest.weights.sha256) throw new EarshotError('MODEL_CHECKSUM_MISMATCH', `${wpath}: sha256 ${digest} does not match manifest ${manifest.weights.sha256}`, { dir });
  // Float32Array views need 4-byte alignment; readFileSync's Buffers are aligned, so the view is
  // taken in place and the copy only guards a Buffer that ever starts unaligned.
  const aligned = blob.byteOffset % 4 === 0 ? blob : Uint8Array.from(blob);
  const weights = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const t of manifest.weights.tensors) {
    const dtype = t.dtype ?? 'float32';
    if (!WEIGHT_DTYPES.includes(dtype)) throw new EarshotError('MODEL_INVALID', `${dir}: tensor ${t.name} has unknown dtype '${String(dtype)}'`, { dir, tensor: t.name });
    if (t.offsetBytes + storedBytes(t.shape, dtype) > aligned.byteLength) throw new EarshotError('MODEL_INVALID', `${dir}: tensor ${t.name} runs past the end of ${manifest.weights.file}`, { dir, tensor: t.name });
    // float32 tensors are views in place; compact ones (float16/int8) are expanded to float32 copies.
    weights.set(t.name, { shape: t.shape, data: decodeTensor(aligned.subarray(t.offsetBytes), t.shape, dtype, `${dir}: tensor ${t.name}`) });
  }
  return weights;
}

/** The labels file a checked manifest names ([] when it names none). */
export function readLabels(dir: string, manifest: ModelManifest): LabelInfo[] {
  if (!manifest.labels) return [];
  const lpath = join(dir, manifest.labels.file);
  if (!(existsSync(lpath) && statSync(lpath).isFile())) throw new EarshotError('MODEL_INVALID', `${dir}: labels file ${manifest.labels.file} is missing`, { dir });
  return parseLabelsCsv(readFileSync(lpath, 'utf8'), lpath);
}

/** Names the version of the weights file (inode, size, mtime): a compiled graph cached under another stamp is stale. */
export function weightsStamp(dir: string, manifest: ModelManifest): string {
  const st = statSync(join(dir, manifest.weights.file));
  return `${st.ino}:${st.size}:${Math.floor(st.mtimeMs)}`;
}
