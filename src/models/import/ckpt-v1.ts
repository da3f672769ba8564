import { closeSync, fstatSync,openSync, readSync } from 'node:fs';

import { EarshotError } from '../../errors.js';
import { DT_DOUBLE, DT_FLOAT, dtypeName, isUnsupportedFloat } from './dtypes.js';
import { getBytes, getInt, getMessage, getMessages, getString, parseMessage, type ProtoMessage } from './proto.js';
import { readTable } from './sstable.js';
import { f32FromBytes, f32FromF64Bytes, numel, type ProgressFn, type RawTensor, type ReadResult,shapeStr } from './tensors.js';

/**
 * TF1 "V1" checkpoints (Saver(write_version=1), tensor_slice_writer.cc): one table
 * file. Key "" holds SavedTensorSlices{meta: SavedTensorSliceMeta} listing every
 * tensor (name, shape, type, slices); every other key is an OrderedCode-encoded
 * (name, slice) whose SavedTensorSlices{data: SavedSlice} carries the values as
 * a TensorProto. The published vggish_model.ckpt is this format: vggish_slim
 * restores it with Saver(write_version=1).
 */

interface Meta {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: number;
}

/** Reads the file with progress: the official checkpoint is ~280 MB. */
export function readFileWithProgress(path: string, onProgress?: ProgressFn): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const out = new Uint8Array(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, out, done, Math.min(8 << 20, size - done), done);
      if (n === 0) throw new EarshotError('DATA_CORRUPT', `${path}: file shrank while reading`, { file: path });
      done += n;
      onProgress?.(done, size);
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function decodeShape(m: ProtoMessage | undefined, what: string): number[] {
  if (!m) return [];
  return getMessages(m, 2, what).map((d) => {
    const v = getInt(d, 1, what);
    if (v < 0) throw new EarshotError('MODEL_INVALID', `${what}: unknown dimension ${v}`, { what });
    return v;
  });
}

/** TensorSliceProto -> per-dim [start, length]; an empty extent means the full dimension. */
function decodeSlice(m: ProtoMessage | undefined, shape: readonly number[], what: string): Array<[number, number]> {
  const extents = m ? getMessages(m, 1, what) : [];
  if (extents.length !== 0 && extents.length !== shape.length) throw new EarshotError('MODEL_INVALID', `${what}: slice has ${extents.length} extents for a rank-${shape.length} tensor`, { what });
  return shape.map((dim, d) => {
    const e = extents[d];
    if (!e || !e.has(2)) return [0, dim];
    const start = getInt(e, 1, what);
    const len = getInt(e, 2, what);
    if (start < 0 || len < 0 || start + len > dim) throw new EarshotError('MODEL_INVALID', `${what}: slice [${start}, +${len}) outside dimension ${d} of size ${dim}`, { what });
    return [start, len];
  });
}

/** The TensorProto's values as float32, whatever field the writer used. */
function sliceValues(t: ProtoMessage, dtype: number, what: string): Float32Array {
  const content = getBytes(t, 4, what);
  if (content && content.length > 0) return dtype === DT_FLOAT ? f32FromBytes(content) : f32FromF64Bytes(content);
  const field = dtype === DT_FLOAT ? 5 : 6;
  const width = dtype === DT_FLOAT ? 4 : 8;
  const parts: Uint8Array[] = [];
  for (const f of t.get(field) ?? []) {
    if (f.wire === 2 || (width === 4 && f.wire === 5) || (width === 8 && f.wire === 1)) parts.push(f.bytes);
    else throw new EarshotError('MODEL_INVALID', `${what}: value field has wire type ${f.wire}`, { what });
  }
  if (parts.length === 1 && parts[0]!.length % width === 0) return width === 4 ? f32FromBytes(parts[0]!) : f32FromF64Bytes(parts[0]!);
  const n = parts.reduce((a, p) => a + p.length, 0);
  if (n % width !== 0) throw new EarshotError('MODEL_INVALID', `${what}: ${n} value bytes is not a multiple of ${width}`, { what });
  const all = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    all.set(p, o);
    o += p.length;
  }
  return width === 4 ? f32FromBytes(all) : f32FromF64Bytes(all);
}

/** Copies a row-major slice block into its place in the full tensor. */
function isFull(shape: readonly number[], slice: ReadonlyArray<[number, number]>): boolean {
  return slice.every(([s, l], d) => s === 0 && l === shape[d]);
}

function placeSlice(dst: Float32Array, shape: readonly number[], slice: ReadonlyArray<[number, number]>, src: Float32Array): void {
  const rank = shape.length;
  if (rank === 0 || isFull(shape, slice)) {
    dst.set(src);
    return;
  }
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  const idx = new Array<number>(rank).fill(0);
  const rowLen = slice[rank - 1]![1];
  for (let s = 0; s < src.length; s += rowLen) {
    let off = 0;
    for (let d = 0; d < rank; d++) off += (slice[d]![0] + (d === rank - 1 ? 0 : idx[d]!)) * strides[d]!;
    dst.set(src.subarray(s, s + rowLen), off);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < slice[d]![1]) break;
      idx[d] = 0;
    }
  }
}

export function readCheckpointV1(path: string, onProgress?: ProgressFn): ReadResult {
  const buf = readFileWithProgress(path, onProgress);
  const entries = readTable(buf, path);
  const first = entries[0];
  if (!first || first.key.length !== 0) throw new EarshotError('MODEL_INVALID', `${path}: no SavedTensorSliceMeta under the empty key (not a V1 checkpoint)`, { file: path });
  const metaMsg = getMessage(parseMessage(first.value, `${path}: meta`), 1, `${path}: meta`);
  if (!metaMsg) throw new EarshotError('MODEL_INVALID', `${path}: empty key holds no SavedTensorSliceMeta`, { file: path });
  const metas = new Map<string, Meta>();
  for (const sm of getMessages(metaMsg, 1, `${path}: meta`)) {
    const name = getString(sm, 1, `${path}: meta`);
    const what = `${path}: tensor ${name}`;
    metas.set(name, { name, shape: decodeShape(getMessage(sm, 2, what), what), dtype: getInt(sm, 3, what) });
  }
  // `data` is allocated lazily: a single full slice (the usual case) is adopted without a copy.
  const out = new Map<string, { meta: Meta; data: Float32Array | null; filled: number }>();
  const skipped: Array<{ name: string; dtype: string }> = [];
  for (const m of metas.values()) {
    if (m.dtype === DT_FLOAT || m.dtype === DT_DOUBLE) out.set(m.name, { meta: m, data: null, filled: 0 });
    else if (isUnsupportedFloat(m.dtype)) throw new EarshotError('DATA_UNSUPPORTED', `${path}: tensor ${m.name} has dtype ${dtypeName(m.dtype)}; only float32/float64 are supported`, { file: path, tensor: m.name });
    else skipped.push({ name: m.name, dtype: dtypeName(m.dtype) });
  }
  for (const e of entries.slice(1)) {
    const ss = getMessage(parseMessage(e.value, `${path}: slice entry`), 2, `${path}: slice entry`);
    if (!ss) throw new EarshotError('MODEL_INVALID', `${path}: data entry without a SavedSlice`, { file: path });
    const name = getString(ss, 1, `${path}: slice entry`);
    const what = `${path}: tensor ${name}`;
    const meta = metas.get(name);
    if (!meta) throw new EarshotError('MODEL_INVALID', `${what}: data for a tensor the meta entry does not list`, { file: path, tensor: name });
    const target = out.get(name);
    if (!target) continue;
    const slice = decodeSlice(getMessage(ss, 2, what), meta.shape, what);
    const want = slice.reduce((a, [, l]) => a * l, 1);
    const values = sliceValues(getMessage(ss, 3, what) ?? new Map(), meta.dtype, what);
    if (values.length !== want) throw new EarshotError('MODEL_INVALID', `${what}: slice holds ${values.length} values, expected ${want} for shape ${shapeStr(meta.shape)}`, { file: path, tensor: name });
    if (target.data === null && isFull(meta.shape, slice)) target.data = values;
    else {
      target.data ??= new Float32Array(numel(meta.shape));
      placeSlice(target.data, meta.shape, slice, values);
    }
    target.filled += want;
  }
  const tensors: RawTensor[] = [];
  for (const { meta, data, filled } of out.values()) {
    const n = numel(meta.shape);
    if (data === null || filled !== n) throw new EarshotError('MODEL_INVALID', `${path}: tensor ${meta.name} ${shapeStr(meta.shape)}: slices cover ${filled} of ${n} values`, { file: path, tensor: meta.name });
    tensors.push({ name: meta.name, shape: meta.shape, data });
  }
  return { tensors, skipped };
}
