import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import protobuf from 'protobufjs';

import { isEarshotError } from '../../src/errors.js';
import { readCheckpointV1 } from '../../src/models/import/ckpt-v1.js';
import { readCheckpointV2 } from '../../src/models/import/ckpt-v2.js';
import { snappyDecompress } from '../../src/models/import/snappy.js';
import { buildTable, readTable } from '../../src/models/import/sstable.js';
import { readVggishSource } from '../../src/models/import/vggish.js';
import { crc32c, maskCrc } from '../../src/util/crc32c.js';
import { writeCheckpointV1, writeCheckpointV2 } from '../helpers/checkpoints.js';
import { asRawTensors, miniVggishTable, seededWeights } from '../helpers/import-fixtures.js';
import { sharedDir } from '../helpers/shared.js';

// TensorFlow's own message definitions (tensor_bundle.proto, saved_tensor_slice.proto,
// tensor_shape.proto, tensor_slice.proto, tensor.proto subset), compiled by protobufjs:
// an independent decoder for what the hand-written codec emits.
const TF_PROTOS = `syntax = "proto3";
package tensorflow;
message TensorShapeProto { message Dim { int64 size = 1; string name = 2; } repeated Dim dim = 2; bool unknown_rank = 3; }
message VersionDef { int32 producer = 1; int32 min_consumer = 2; repeated int32 bad_consumers = 3; }
message TensorSliceProto { message Extent { int64 start = 1; oneof has_length { int64 length = 2; } } repeated Extent extent = 1; }
message BundleHeaderProto { int32 num_shards = 1; enum Endianness { LITTLE = 0; BIG = 1; } Endianness endianness = 2; VersionDef version = 3; }
message BundleEntryProto { int32 dtype = 1; TensorShapeProto shape = 2; int32 shard_id = 3; int64 offset = 4; int64 size = 5; fixed32 crc32c = 6; repeated TensorSliceProto slices = 7; }
message TensorProto { int32 dtype = 1; TensorShapeProto tensor_shape = 2; bytes tensor_content = 4; repeated float float_val = 5; repeated int64 int64_val = 10; }
message SavedSliceMeta { string name = 1; TensorShapeProto shape = 2; int32 type = 3; repeated TensorSliceProto slice = 4; }
message SavedTensorSliceMeta { repeated SavedSliceMeta tensor = 1; VersionDef versions = 2; }
message SavedSlice { string name = 1; TensorSliceProto slice = 2; TensorProto data = 3; }
message SavedTensorSlices { SavedTensorSliceMeta meta = 1; SavedSlice data = 2; }
`;
const tfRoot = protobuf.parse(TF_PROTOS).root;
const tfType = (n: string): protobuf.Type => tfRoot.lookupType(`tensorflow.${n}`);

const tmp = (): string => mkdtempSync(join(tmpdir(), 'earshot-ckpt-'));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const table = miniVggishTable();

test('table round-trips many entries across blocks, with restart points and shared prefixes', () => {
  const entries = Array.from({ length: 500 }, (_, i) => ({ key: enc(`vggish/layer${String(i).padStart(4, '0')}/weights`), value: enc(`v${i}`.repeat(i % 7)) }));
  const buf = buildTable(entries, 1024);
  const back = readTable(buf, 'mem.index');
  assert.equal(back.length, 500);
  back.forEach((e, i) => {
    assert.deepEqual(e.key, entries[i]!.key);
    assert.deepEqual(e.value, entries[i]!.value);
  });
  // The footer ends in TF's table magic, little-endian.
  assert.deepEqual([...buf.subarray(buf.length - 8)], [0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);
});

test('snappy decoder handles literals and overlapping back-references; table rejects unknown compression', () => {
  // "abcd" literal, then copy offset 4 length 8 (type-1 copy) -> "abcdabcdabcd".
  const stream = Uint8Array.from([12, (4 - 1) << 2, 0x61, 0x62, 0x63, 0x64, 0x01 | ((8 - 4) << 2), 4]);
  assert.equal(new TextDecoder().decode(snappyDecompress(stream, 'x')), 'abcdabcdabcd');
  assert.throws(() => snappyDecompress(Uint8Array.from([12, 0x01 | (4 << 2), 9]), 'blk'), (e) => isEarshotError(e, 'MODEL_INVALID') && /blk/.test(e.message));
  const buf = buildTable([{ key: enc('a'), value: enc('1') }]);
  // The data block comes first: one entry (3 one-byte varints, key, value) + restart array [0] + count = 13 bytes.
  // Patch its trailer's type byte to 2 (unsupported) and fix the CRC so only the type is wrong.
  const blockLen = 3 + 1 + 1 + 4 + 4;
  const patched = Uint8Array.from(buf);
  patched[blockLen] = 2;
  const crc = maskCrc(crc32c(patched.subarray(0, blockLen + 1)));
  new DataView(patched.buffer).setUint32(blockLen + 1, crc, true);
  assert.throws(() => readTable(patched, 't.index'), (e) => isEarshotError(e, 'MODEL_INVALID') && /compression type 2/.test(e.message));
});

for (const version of ['v1', 'v2'] as const) {
  test(`${version} checkpoint round-trips every variable exactly and skips int64 global_step`, () => {
    const d = tmp();
    const w = seededWeights(table, 11);
    const tensors = [...asRawTensors(w), { name: 'global_step', shape: [], data: BigInt64Array.from([1234n]) }];
    const path = join(d, 'vggish_model.ckpt');
    if (version === 'v1') writeCheckpointV1(path, tensors);
    else writeCheckpointV2(path, tensors);
    const r = version === 'v1' ? readCheckpointV1(path) : readCheckpointV2(path);
    assert.deepEqual(r.skipped, [{ name: 'global_step', dtype: 'DT_INT64' }]);
    assert.equal(r.tensors.length, table.length);
    for (const t of r.tensors) {
      const orig = w.get(t.name)!;
      assert.deepEqual(t.shape, orig.shape, t.name);
      assert.deepEqual(t.data, orig.data, t.name);
    }
    // The importer finds the format itself: V2 by its .index, V1 by the table magic.
    const src = readVggishSource(version === 'v2' ? `${path}.index` : path, { table });
    assert.equal(src.format, version === 'v1' ? 'tf-checkpoint-v1' : 'tf-checkpoint-v2');
    assert.deepEqual([...src.weights.keys()], table.map(([n]) => n));
    rmSync(d, { recursive: true, force: true });
  });

  test(`${version}: unknown float variable, wrong shape and missing variable are named`, () => {
    const d = tmp();
    const path = join(d, 'm.ckpt');
    const write = (ts: Parameters<typeof writeCheckpointV2>[1]): void => (version === 'v1' ? writeCheckpointV1(path, ts) : writeCheckpointV2(path, ts));
    const good = asRawTensors(seededWeights(table, 3));
    write([...good, { name: 'vggish/fc3/weights', shape: [2, 2], data: new Float32Array(4) }]);
    assert.throws(() => readVggishSource(path, { table, format: 'ckpt' }), (e) => isEarshotError(e, 'MODEL_UNKNOWN_VARIABLE') && /vggish\/fc3\/weights/.test(e.message));
    write(good.map((t) => (t.name === 'vggish/conv2/biases' ? { ...t, shape: [4, 2] } : t)));
    assert.throws(() => readVggishSource(path, { table, format: 'ckpt' }), (e) => isEarshotError(e, 'MODEL_SHAPE_MISMATCH') && /vggish\/conv2\/biases/.test(e.message) && /\[4,2\]/.test(e.message) && /\[8\]/.test(e.message));
    write(good.filter((t) => !t.name.startsWith('vggish/fc2/')));
    assert.throws(() => readVggishSource(path, { table, format: 'ckpt' }), (e) => isEarshotError(e, 'MODEL_INVALID') && /vggish\/fc2\/weights, vggish\/fc2\/biases/.test(e.message));
    rmSync(d, { recursive: true, force: true });
  });
}

test('v1: partitioned variables (several row slices per tensor) are reassembled in place', () => {
  const d = tmp();
  const path = join(d, 'sliced.ckpt');
  const w = seededWeights(table, 13);
  writeCheckpointV1(path, asRawTensors(w), { rowSlices: 3 });
  // The slice keys and metas really are partial: conv weights (3 rows) become 3 one-row slices.
  const entries = readTable(readFileSync(path), path);
  const conv1Keys = entries.filter((e) => new TextDecoder('latin1').decode(e.key).includes('vggish/conv1/weights'));
  assert.equal(conv1Keys.length, 3);
  const r = readCheckpointV1(path);
  for (const t of r.tensors) assert.deepEqual(t.data, w.get(t.name)!.data, t.name);
  rmSync(d, { recursive: true, force: true });
});

test('written checkpoints decode with TensorFlow\'s message definitions (protobufjs), with the values TF expects', () => {
  const d = tmp();
  const w = seededWeights(table, 17);
  const tensors = [...asRawTensors(w), { name: 'global_step', shape: [], data: BigInt64Array.from([42n]) }];
  writeCheckpointV2(join(d, 'm.ckpt'), tensors);
  const idx = readTable(readFileSync(join(d, 'm.ckpt.index')), 'm.ckpt.index');
  const header = tfType('BundleHeaderProto').toObject(tfType('BundleHeaderProto').decode(idx[0]!.value), { defaults: true }) as { numShards: number; endianness: number; version: { producer: number } };
  assert.deepEqual([header.numShards, header.endianness, header.version.producer], [1, 0, 1]);
  const data = readFileSync(join(d, 'm.ckpt.data-00000-of-00001'));
  let expectOffset = 0;
  for (const e of idx.slice(1)) {
    const name = new TextDecoder().decode(e.key);
    const m = tfType('BundleEntryProto').toObject(tfType('BundleEntryProto').decode(e.value), { defaults: true, longs: Number }) as { dtype: number; shape: { dim: Array<{ size: number }> }; offset: number; size: number; crc32c: number };
    const t = tensors.find((x) => x.name === name)!;
    assert.equal(m.dtype, name === 'global_step' ? 9 : 1, name); // DT_INT64 / DT_FLOAT
    assert.deepEqual(m.shape.dim.map((x) => x.size), [...t.shape], name);
    assert.equal(m.offset, expectOffset, `${name}: tensors are packed back to back in key order`);
    assert.equal(m.size, t.data.byteLength);
    assert.equal(m.crc32c, maskCrc(crc32c(data.subarray(m.offset, m.offset + m.size))));
    expectOffset += m.size;
  }
  assert.equal(expectOffset, data.length);

  writeCheckpointV1(join(d, 'v1.ckpt'), tensors);
  const v1 = readTable(readFileSync(join(d, 'v1.ckpt')), 'v1.ckpt');
  const sts = tfType('SavedTensorSlices');
  const meta = sts.toObject(sts.decode(v1[0]!.value), { defaults: true, longs: Number }) as { meta: { tensor: Array<{ name: string; type: number; shape: { dim: Array<{ size: number }> }; slice: Array<{ extent: unknown[] }> }> } };
  assert.deepEqual(meta.meta.tensor.map((x) => x.name), tensors.map((x) => x.name));
  assert.deepEqual(meta.meta.tensor[0]!.slice[0]!.extent.length, 4, 'a full slice lists one empty extent per dimension');
  for (const e of v1.slice(1)) {
    const ss = sts.toObject(sts.decode(e.value), { longs: Number }) as { data: { name: string; data: { floatVal?: number[]; int64Val?: number[] } } };
    const t = tensors.find((x) => x.name === ss.data.name)!;
    // The key is OrderedCode(0) + escaped name + terminator + rank + (start 0, length -1) per dim.
    assert.deepEqual([...e.key.subarray(0, 1)], [0]);
    assert.equal(new TextDecoder().decode(e.key.subarray(1, 1 + t.name.length)), t.name);
    assert.deepEqual([...e.key.subarray(1 + t.name.length, 3 + t.name.length)], [0x00, 0x01]);
    if (t.data instanceof BigInt64Array) assert.deepEqual(ss.data.data.int64Val, [42]);
    else assert.deepEqual(Float32Array.from(ss.data.data.floatVal!), t.data);
  }
  rmSync(d, { recursive: true, force: true });
});

test('v2: a flipped data byte fails the tensor crc32c and names the tensor; a missing data shard is MODEL_NOT_FOUND', () => {
  const d = tmp();
  const path = join(d, 'm.ckpt');
  writeCheckpointV2(path, asRawTensors(seededWeights(table, 5)));
  const dataPath = `${path}.data-00000-of-00001`;
  const data = readFileSync(dataPath);
  // Data is laid out in name order, so byte 0 belongs to the first name: vggish/conv1/biases.
  data[0] = data[0]! ^ 0x10;
  writeFileSync(dataPath, data);
  assert.throws(() => readCheckpointV2(path), (e) => isEarshotError(e, 'DATA_CORRUPT') && /vggish\/conv1\/biases/.test(e.message));
  rmSync(dataPath);
  assert.throws(() => readCheckpointV2(path), (e) => isEarshotError(e, 'MODEL_NOT_FOUND') && /data-00000-of-00001/.test(e.message));
  rmSync(d, { recursive: true, force: true });
});

test('real TF-written checkpoints under shared/fixtures/tf-checkpoints, when present, read without errors', (t) => {
  const dir = join(sharedDir, 'fixtures', 'tf-checkpoints');
  if (!existsSync(dir)) {
    t.skip(`${dir} does not exist in this checkout of shared/`);
    return;
  }
  const files = readdirSync(dir);
  for (const f of files.filter((x) => x.endsWith('.index'))) {
    const r = readCheckpointV2(join(dir, f));
    assert.ok(r.tensors.length + r.skipped.length > 0, f);
  }
  for (const f of files.filter((x) => /\.ckpt$/.test(x))) {
    const r = readCheckpointV1(join(dir, f));
    assert.ok(r.tensors.length + r.skipped.length > 0, f);
  }
});
