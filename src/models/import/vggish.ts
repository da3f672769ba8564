import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

import { EarshotError } from '../../errors.js';
import type { ModelManifest, Weights } from '../contracts.js';
import { type ManifestFields,writeModelDir } from '../modeldir.js';
import { validateVggishWeights, VGGISH_EMBEDDING_SIZE, VGGISH_INPUT_SHAPE, VGGISH_OUTPUT, VGGISH_VARIABLES } from '../vggish/network.js';
import { PCA_EXTRA_KEY, PCA_FILE, readPcaParams } from '../vggish/postprocess.js';
import { readCheckpointV1 } from './ckpt-v1.js';
import { checkpointPrefix, dataShardPath, isCheckpointV2, readCheckpointV2 } from './ckpt-v2.js';
import { mapTfjsName, mapTorch, PCA_EIGEN, PCA_MEANS, pcaName } from './names.js';
import { readPth } from './pth.js';
import { hasTableMagic } from './sstable.js';
import { checkAgainstTable, checkFinite, type ProgressFn, type RawTensor, shapeStr, type VariableTable } from './tensors.js';
import { readTfjs } from './tfjs.js';

export type WeightFormat = 'ckpt' | 'pth' | 'tfjs';
export type SourceFormat = 'tf-checkpoint-v1' | 'tf-checkpoint-v2' | 'torch-pth' | 'tfjs';

export const VGGISH_TABLE: VariableTable = [...VGGISH_VARIABLES];
const PCA_SHAPES: ReadonlyMap<string, readonly number[]> = new Map([
  [PCA_EIGEN, [VGGISH_EMBEDDING_SIZE, VGGISH_EMBEDDING_SIZE]],
  [PCA_MEANS, [VGGISH_EMBEDDING_SIZE]],
]);

function head(path: string, n: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const b = new Uint8Array(n);
    return b.subarray(0, readSync(fd, b, 0, n, 0));
  } finally {
    closeSync(fd);
  }
}

function tail(path: string, n: number): Uint8Array {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const b = new Uint8Array(Math.min(n, size));
    readSync(fd, b, 0, b.length, size - b.length);
    return b;
  } finally {
    closeSync(fd);
  }
}

/** Detects the format from the path and the file's magic bytes. */
export function detectFormat(path: string): WeightFormat {
  if (/\.json$/i.test(path) || (existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, 'model.json')))) return 'tfjs';
  if (isCheckpointV2(path)) return 'ckpt';
  if (!existsSync(path)) throw new EarshotError('MODEL_NOT_FOUND', `weights file ${path} not found`, { file: path });
  if (statSync(path).isDirectory()) throw new EarshotError('MODEL_INVALID', `${path} is a directory without model.json`, { file: path });
  const h = head(path, 4);
  if (h[0] === 0x50 && h[1] === 0x4b) return 'pth';
  if (h[0] === 0x80 && (h[1] ?? 0) <= 5) return 'pth';
  if (hasTableMagic(tail(path, 48))) return 'ckpt';
  if (/\.(pth|pt)$/i.test(path)) return 'pth';
  throw new EarshotError('MODEL_INVALID', `cannot tell the format of ${path}: not a TF checkpoint, torch .pth or TF.js model.json (pass --format)`, { file: path });
}

export interface SourceWeights {
  readonly format: SourceFormat;
  /** Official names, TF layouts, table order. */
  readonly weights: Weights;
  /** float32 PCA tensors found in the source (torchvggish pproc.*), if any. */
  readonly pca: Weights | undefined;
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly dtype: string }>;
  /** Files read, for provenance. */
  readonly files: readonly string[];
}

function splitPca(tensors: readonly RawTensor[], source: string): { net: RawTensor[]; pca: Weights | undefined } {
  const net: RawTensor[] = [];
  const pca = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const t of tensors) {
    if (t.name !== PCA_EIGEN && t.name !== PCA_MEANS) {
      net.push(t);
      continue;
    }
    const want = PCA_SHAPES.get(t.name)!;
    if (want.length !== t.shape.length || want.some((d, i) => d !== t.shape[i])) throw new EarshotError('MODEL_SHAPE_MISMATCH', `${source}: tensor ${t.name} has shape ${shapeStr(t.shape)}, expected ${shapeStr(want)}`, { source, tensor: t.name });
    pca.set(t.name, { shape: want, data: t.data });
  }
  if (pca.size === 1) throw new EarshotError('MODEL_INVALID', `${source}: has ${[...pca.keys()][0]} but not its PCA partner`, { source });
  return { net, pca: pca.size === 2 ? pca : undefined };
}

/** Reads VGGish weights in any supported format and maps them to official names and TF layouts. */
export function readVggishSource(path: string, opts: { format?: WeightFormat; table?: VariableTable; onProgress?: ProgressFn } = {}): SourceWeights {
  const table = opts.table ?? VGGISH_TABLE;
  const format = opts.format ?? detectFormat(path);
  let kind: SourceFormat;
  let tensors: RawTensor[];
  let skipped: SourceWeights['skipped'];
  let files: string[];
  if (format === 'ckpt') {
    if (isCheckpointV2(path)) {
      const prefix = checkpointPrefix(path);
      const r = readCheckpointV2(path, opts.onProgress);
      kind = 'tf-checkpoint-v2';
      tensors = r.tensors.map((t) => ({ ...t, name: pcaName(t.name) ?? t.name }));
      skipped = r.skipped;
      files = [`${prefix}.index`, dataShardPath(prefix, 0, 1)];
    } else {
      const r = readCheckpointV1(path, opts.onProgress);
      kind = 'tf-checkpoint-v1';
      tensors = r.tensors.map((t) => ({ ...t, name: pcaName(t.name) ?? t.name }));
      skipped = r.skipped;
      files = [path];
    }
  } else if (format === 'pth') {
    const r = readPth(path, opts.onProgress);
    kind = 'torch-pth';
    tensors = mapTorch(r.tensors, new Map(table), path);
    skipped = r.skipped;
    files = [path];
  } else {
    const json = existsSync(path) && statSync(path).isDirectory() ? join(path, 'model.json') : path;
    const r = readTfjs(json, opts.onProgress);
    kind = 'tfjs';
    tensors = r.tensors.map((t) => ({ ...t, name: mapTfjsName(t.name) }));
    skipped = r.skipped;
    files = [json];
  }
  const { net, pca } = splitPca(tensors, path);
  const weights = checkAgainstTable(net, table, path);
  for (const [name, t] of weights) checkFinite({ name, shape: t.shape, data: t.data }, path);
  return { format: kind, weights, pca, skipped, files };
}

/** Reads PCA params from an npz (kept verbatim, float64) or a torchvggish pca .pth (float32 tensors). */
export function readPcaSource(path: string): { npz: Uint8Array } | { tensors: Weights } {
  if (!existsSync(path)) throw new EarshotError('DATA_NOT_FOUND', `PCA params ${path} not found`, { file: path });
  const h = head(path, 4);
  const isZip = h[0] === 0x50 && h[1] === 0x4b;
  if (isZip && /\.npz$/i.test(path)) {
    readPcaParams(path);
    return { npz: readFileSync(path) };
  }
  const r = readPth(path);
  const { pca } = splitPca(r.tensors.map((t) => ({ ...t, name: pcaName(t.name) ?? t.name, shape: pcaName(t.name) === PCA_MEANS && t.shape.length === 2 ? [t.shape[0]!] : t.shape })), path);
  if (!pca) throw new EarshotError('DATA_NOT_FOUND', `${path} holds no pca_eigen_vectors/pca_means (found: ${r.tensors.map((t) => t.name).join(', ') || 'none'})`, { file: path });
  return { tensors: pca };
}

export function sha256File(path: string): string {
  const h = createHash('sha256');
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(8 << 20);
    let pos = 0;
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

export interface ImportOptions {
  readonly source: string;
  readonly outDir: string;
  readonly format?: WeightFormat;
  readonly pca?: string;
  readonly onProgress?: ProgressFn;
  /** Recorded in provenance, e.g. the URL `models fetch` downloaded from. */
  readonly origin?: string;
}

export interface ImportResult {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly format: SourceFormat;
  readonly sourceSha256: string;
  readonly skipped: SourceWeights['skipped'];
  readonly hasPca: boolean;
}

/** `earshot models import vggish`: any supported source -> verified model directory. */
export function importVggish(opts: ImportOptions): ImportResult {
  const src = readVggishSource(opts.source, { ...(opts.format ? { format: opts.format } : {}), ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  const weights = new Map(src.weights);
  const extras: Record<string, Uint8Array> = {};
  let pcaProvenance: Record<string, string> | undefined;
  const pcaSrc = opts.pca ? readPcaSource(opts.pca) : src.pca ? { tensors: src.pca } : undefined;
  if (pcaSrc && 'npz' in pcaSrc) extras[PCA_FILE] = pcaSrc.npz;
  else if (pcaSrc) for (const [k, v] of pcaSrc.tensors) weights.set(k, v);
  if (opts.pca) pcaProvenance = { pcaSource: resolve(opts.pca), pcaSha256: sha256File(opts.pca) };
  validateVggishWeights(weights);
  const hashes = src.files.map((f) => ({ file: basename(f), sha256: sha256File(f) }));
  const primary = hashes[hashes.length - 1]!;
  const fields: ManifestFields = {
    name: 'vggish',
    architecture: 'vggish',
    version: `imported-${primary.sha256.slice(0, 12)}`,
    input: { name: 'patches', shape: [...VGGISH_INPUT_SHAPE] },
    outputs: [{ name: VGGISH_OUTPUT, shape: [VGGISH_EMBEDDING_SIZE] }],
    provenance: {
      source: resolve(opts.source),
      format: src.format,
      sha256: primary.sha256,
      files: hashes,
      ...(opts.origin ? { origin: opts.origin } : {}),
      ...(pcaProvenance ?? {}),
      ...(src.skipped.length ? { skipped: src.skipped.map((s) => `${s.name} (${s.dtype})`) } : {}),
      importedBy: 'earshot models import vggish',
    },
    ...(extras[PCA_FILE] ? { extras: { [PCA_EXTRA_KEY]: PCA_FILE } } : {}),
  };
  const manifest = writeModelDir(opts.outDir, fields, weights, undefined, extras);
  return { dir: opts.outDir, manifest, format: src.format, sourceSha256: primary.sha256, skipped: src.skipped, hasPca: pcaSrc !== undefined };
}
