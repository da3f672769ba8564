import assert from 'node:assert/strict';
import { test } from 'node:test';

import protobuf from 'protobufjs';

import { isEarshotError } from '../../src/errors.js';
import { parseMessage, readVarintNumber } from '../../src/models/import/proto.js';
import { parseFields, ProtoError, ProtoReader, ProtoWriter, WIRE_FIXED64, WIRE_LEN } from '../../src/util/protobuf.js';

const bare = (v: number | bigint): Uint8Array => new ProtoWriter().writeVarint(v).finish();

test('varints round-trip: number path exact to 2^53, int64 negatives are 10 bytes, bigints exact to 2^64', () => {
  for (const v of [0, 1, 127, 128, 300, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, -1, -3, -(2 ** 40)]) {
    const b = bare(v);
    assert.equal(new ProtoReader(b).varint(), v, `number ${v}`);
    assert.equal(BigInt.asIntN(64, new ProtoReader(b).varint64()), BigInt(v), `bigint ${v}`);
    assert.deepEqual(bare(BigInt(v)), b, `bigint and number writers agree for ${v}`);
    if (v < 0) assert.equal(b.length, 10);
  }
  assert.deepEqual(bare(300), Uint8Array.from([0xac, 0x02]));
  assert.equal(new ProtoReader(bare(2n ** 64n - 1n)).varint64(), 2n ** 64n - 1n);
});

test('tagged fields match protobufjs, and unknown fields of every wire type are skipped', () => {
  const w = new ProtoWriter().varint(1, 150).fixed32(2, 0xdeadbeef).float32(3, 1.5).bytes(4, 'hé').varint(5, -2n);
  const bytes = w.finish();
  const pw = protobuf.Writer.create();
  pw.uint32(8).uint32(150).uint32(21).fixed32(0xdeadbeef).uint32(29).float(1.5).uint32(34).string('hé').uint32(40).int64(-2);
  assert.deepEqual(bytes, Uint8Array.from(pw.finish()));
  const m = parseFields(bytes);
  assert.deepEqual([...m.keys()], [1, 2, 3, 4, 5]);
  const f5 = m.get(5)![0]!;
  assert.ok(f5.wire === 0 && BigInt.asIntN(64, f5.value) === -2n);
  const r = new ProtoReader(
    new ProtoWriter()
      .tag(9, WIRE_FIXED64)
      .writeVarint(0)
      .writeVarint(0)
      .writeVarint(0)
      .writeVarint(0)
      .writeVarint(0)
      .writeVarint(0)
      .writeVarint(0)
      .writeVarint(0)
      .bytes(10, 'xy')
      .varint(11, 7)
      .finish(),
  );
  for (let i = 0; i < 2; i++) r.skip(r.tag().wire);
  assert.deepEqual(r.tag(), { field: 11, wire: 0 });
  assert.equal(r.varint(), 7);
  assert.ok(r.done());
});

function throwsProto(fn: () => unknown, at: number, msg: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ProtoError && e.at === at && msg.test(e.message));
}

test('malformed input throws ProtoError with the byte offset', () => {
  throwsProto(() => new ProtoReader(Uint8Array.from([0x80, 0x80])).varint(), 2, /truncated varint/);
  throwsProto(() => new ProtoReader(new Uint8Array(11).fill(0xff)).varint64(), 10, /longer than 10 bytes/);
  throwsProto(() => new ProtoReader(Uint8Array.from([0x00])).tag(), 0, /invalid field number 0/);
  throwsProto(() => new ProtoReader(Uint8Array.from([0x0b])).tag(), 0, /unsupported wire type 3/);
  throwsProto(() => parseFields(Uint8Array.from([0x08, 0x01, 0x12, 0x05, 0x61])), 3, /length 5 overruns message \(1 bytes left\)/);
  throwsProto(() => parseFields(Uint8Array.from([0x0d, 0x01, 0x02])), 1, /truncated fixed32/);
  // A length-delimited field bounded by its enclosing message, not the whole buffer.
  const outer = Uint8Array.from([0x0a, 0x02, 0x08, 0x96, 0x01]);
  const r = new ProtoReader(outer, 2, 4);
  assert.equal(r.tag().wire, 0);
  throwsProto(() => r.varint(), 4, /truncated varint/);
  assert.equal(new ProtoReader(outer).tag().wire, WIRE_LEN);
});

test('checkpoint field access wraps codec errors as MODEL_INVALID naming the file and offset', () => {
  assert.throws(
    () => parseMessage(Uint8Array.from([0x08, 0x01, 0x12, 0x05, 0x61]), 'x.index: entry w'),
    (e: unknown) => isEarshotError(e, 'MODEL_INVALID') && /^x\.index: entry w: length 5 overruns message .* at byte 3$/.test(e.message),
  );
  assert.throws(
    () => readVarintNumber(Uint8Array.from([0xff]), 0, 'f.ckpt'),
    (e: unknown) => isEarshotError(e, 'MODEL_INVALID') && e.message.startsWith('f.ckpt: truncated varint'),
  );
  assert.throws(
    () => readVarintNumber(bare(2n ** 60n), 0, 'f.ckpt'),
    (e: unknown) => isEarshotError(e, 'MODEL_INVALID') && /out of range/.test(e.message),
  );
  assert.deepEqual(readVarintNumber(Uint8Array.from([0x00, 0xac, 0x02, 0x07]), 1, 'f.ckpt'), [300, 3]);
});
