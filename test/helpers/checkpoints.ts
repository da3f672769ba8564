import { writeFileSync } from 'node:fs';

import { EarshotError } from '../../src/errors.js';
import { dataShardPath } from '../../src/models/import/ckpt-v2.js';
import { DT_FLOAT, DT_INT64 } from '../../src/models/import/dtypes.js';
import { ProtoWriter } from '../../src/models/import/proto.js';
import { buildTable, compareBytes, type TableEntry } from '../../src/models/import/sstable.js';
import { crc32c, maskCrc } from '../../src/util/crc32c.js';

/**
 * TensorFlow checkpoint writers for importer tests (V1 as TensorSliceWriter writes it,
 * V2 as BundleWriter does): earshot only reads checkpoints, so these live with the tests.
 */

export function encodeShape(shape: readonly number[]): Uint8Array {
  const w = new ProtoWriter();
  for (const d of shape) w.bytes(2, new ProtoWriter().varint(1, d).finish());
  return w.finish();
}

export interface WriteTensor {
  readonly name: string;
  readonly shape: readonly number[];
  /** float32 variables, or an int64 scalar/vector such as global_step. */
  readonly data: Float32Array | BigInt64Array;
}

/**
 * Writes `<prefix>.index` + `<prefix>.data-00000-of-00001` the way BundleWriter does
 * (entries sorted by name, data concatenated in that order, masked crc32c per tensor).
 */
export function writeCheckpointV2(prefix: string, tensors: readonly WriteTensor[]): void {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const entries: TableEntry[] = [];
  const header = new ProtoWriter().varint(1, 1).bytes(3, new ProtoWriter().varint(1, 1).finish()).finish();
  entries.push({ key: new Uint8Array(0), value: header });
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const t of sorted) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const e = new ProtoWriter().varint(1, t.data instanceof Float32Array ? DT_FLOAT : DT_INT64).bytes(2, encodeShape(t.shape));
    if (offset > 0) e.varint(4, offset);
    e.varint(5, bytes.length).fixed32(6, maskCrc(crc32c(bytes)));
    entries.push({ key: new TextEncoder().encode(t.name), value: e.finish() });
    parts.push(bytes);
    offset += bytes.length;
  }
  const data = new Uint8Array(offset);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  writeFileSync(dataShardPath(prefix, 0, 1), data);
  writeFileSync(`${prefix}.index`, buildTable(entries));
}

/** OrderedCode (tensorflow/core/lib/strings/ordered_code.cc) pieces used by slice keys. */
function numIncreasing(n: number): number[] {
  const bytes: number[] = [];
  let x = n;
  while (x > 0) {
    bytes.unshift(x & 0xff);
    x = Math.floor(x / 256);
  }
  return [bytes.length, ...bytes];
}

function orderedString(s: string): number[] {
  const out: number[] = [];
  for (const b of new TextEncoder().encode(s)) {
    if (b === 0x00) out.push(0x00, 0xff);
    else if (b === 0xff) out.push(0xff, 0x00);
    else out.push(b);
  }
  out.push(0x00, 0x01);
  return out;
}

/** The one-byte form of OrderedCode's signed numbers (-64..63): enough for full slices (0, -1) and small test slices. */
function signedSmall(n: number): number {
  if (n < -64 || n > 63) throw new EarshotError('INTERNAL', `signedSmall: ${n} needs the multi-byte form`);
  return (n + 0x80) & 0xff;
}

function packedBytes(field: number, data: Uint8Array): Uint8Array {
  return new ProtoWriter().bytes(field, data).finish();
}

type Extents = ReadonlyArray<readonly [number, number]>;

function sliceKey(name: string, rank: number, rows?: readonly [number, number]): Uint8Array {
  const b = [...numIncreasing(0), ...orderedString(name), ...numIncreasing(rank)];
  for (let d = 0; d < rank; d++) {
    if (d === 0 && rows) b.push(signedSmall(rows[0]), signedSmall(rows[1]));
    else b.push(signedSmall(0), signedSmall(-1));
  }
  return Uint8Array.from(b);
}

function sliceProto(rank: number, rows?: readonly [number, number]): Uint8Array {
  const w = new ProtoWriter();
  for (let d = 0; d < rank; d++) w.bytes(1, d === 0 && rows ? new ProtoWriter().varint(1, rows[0]).varint(2, rows[1]).finish() : new Uint8Array(0));
  return w.finish();
}

function int64Values(data: BigInt64Array): Uint8Array {
  // TensorProto.int64_val (field 10), packed: the concatenated varints.
  const packed = new ProtoWriter();
  for (const v of data) packed.writeVarint(v);
  return new ProtoWriter().bytes(10, packed.finish()).finish();
}

/**
 * Writes a single-file V1 checkpoint the way TensorSliceWriter does: one full
 * slice per tensor, or (`rowSlices`, for tests of partitioned variables) float
 * tensors with at most 63 rows split into that many row slices.
 */
export function writeCheckpointV1(path: string, tensors: readonly WriteTensor[], opts: { rowSlices?: number } = {}): void {
  const meta = new ProtoWriter();
  const data: TableEntry[] = [];
  for (const t of tensors) {
    const isFloat = t.data instanceof Float32Array;
    const rows = t.shape[0] ?? 0;
    const parts = opts.rowSlices && isFloat && rows >= opts.rowSlices && rows < 64 ? opts.rowSlices : 1;
    const extents: Extents =
      parts === 1
        ? []
        : Array.from({ length: parts }, (_, i) => {
            const start = Math.floor((i * rows) / parts);
            return [start, Math.floor(((i + 1) * rows) / parts) - start] as const;
          });
    const sm = new ProtoWriter()
      .bytes(1, t.name)
      .bytes(2, encodeShape(t.shape))
      .varint(3, isFloat ? DT_FLOAT : DT_INT64);
    for (const e of extents.length ? extents : [undefined]) sm.bytes(4, sliceProto(t.shape.length, e));
    meta.bytes(1, sm.finish());
    const rowLen = rows ? t.data.length / rows : 0;
    for (const e of extents.length ? extents : [undefined]) {
      let values: Uint8Array;
      if (t.data instanceof Float32Array) {
        const v = e ? t.data.subarray(e[0] * rowLen, (e[0] + e[1]) * rowLen) : t.data;
        values = packedBytes(5, new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
      } else values = int64Values(t.data);
      const saved = new ProtoWriter().bytes(1, t.name).bytes(2, sliceProto(t.shape.length, e)).bytes(3, values).finish();
      data.push({ key: sliceKey(t.name, t.shape.length, e), value: new ProtoWriter().bytes(2, saved).finish() });
    }
  }
  meta.bytes(2, new ProtoWriter().varint(1, 1).finish());
  data.sort((a, b) => compareBytes(a.key, b.key));
  const entries = [{ key: new Uint8Array(0), value: new ProtoWriter().bytes(1, meta.finish()).finish() }, ...data];
  writeFileSync(path, buildTable(entries));
}
