import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import type { Storage } from '../../src/storage/contracts.js';
import { memoryStorage } from '../../src/storage/index.js';
import type { Clip } from '../../src/train/contracts.js';
import { encodeAudioSetClip, encodeTFRecords, maskedCrc32c, readAudioSetClips, type ReadClipsOptions } from '../../src/train/datasets/index.js';
import { rng } from '../helpers/rng.js';
import { sharedPath } from '../helpers/shared.js';

/**
 * Hostile input for the TFRecord + SequenceExample path: every outcome must be
 * the original clips, valid clips, or DATA_CORRUPT naming file and offset.
 * Never a RangeError/TypeError, never a huge allocation, never silent garbage.
 */
// A real file from the balanced split: several records written by TensorFlow.
const original = readFileSync(sharedPath('data/audioset/features/bal_train/--.tfrecord'));

/** Record header offsets of the original file. */
const boundaries: number[] = (() => {
  const out: number[] = [];
  for (let o = 0; o < original.length; o += 16 + Number(original.readBigUInt64LE(o))) out.push(o);
  return out;
})();

async function readAll(s: Storage, opts: ReadClipsOptions = {}): Promise<Clip[]> {
  const out: Clip[] = [];
  for await (const c of readAudioSetClips(s, { prefix: 'f/', ...opts })) out.push(c);
  return out;
}

async function withFile(bytes: Uint8Array, opts: ReadClipsOptions = {}): Promise<{ clips?: Clip[]; error?: unknown }> {
  const s = memoryStorage();
  await s.writeAtomic('f/x.tfrecord', bytes);
  try {
    return { clips: await readAll(s, opts) };
  } catch (error) {
    return { error };
  }
}

const recordOf = (pos: number): number => boundaries.filter((b) => b <= pos).at(-1)!;

function assertCorruptAt(r: { error?: unknown }, offset: number, what: string): void {
  const e = r.error;
  assert.ok(isEarshotError(e, 'DATA_CORRUPT'), `${what}: expected DATA_CORRUPT, got ${String(e)}`);
  assert.ok(e.message.includes('f/x.tfrecord'), `${what}: message names the file`);
  assert.ok(e.message.includes(`at byte ${offset}:`), `${what}: message names offset ${offset}: ${e.message}`);
  assert.equal(e.details.offset, offset, `${what}: offset`);
}

test('the untouched file reads cleanly (baseline)', async () => {
  assert.ok(boundaries.length >= 3, `fixture has ${boundaries.length} records`);
  const r = await withFile(original);
  assert.equal(r.clips?.length, boundaries.length);
});

test('every single-bit flip is DATA_CORRUPT at the record that holds it', async () => {
  const rand = rng(1);
  const positions = new Set<number>([0, 7, 8, 11, 12, original.length - 1, original.length - 4]);
  for (const b of boundaries) for (const d of [0, 8, 11, 12, 20]) if (b + d < original.length) positions.add(b + d);
  while (positions.size < 600) positions.add(Math.floor(rand() * original.length));
  for (const pos of positions) {
    const bytes = Buffer.from(original);
    bytes[pos]! ^= 1 << Math.floor(rand() * 8);
    assertCorruptAt(await withFile(bytes), recordOf(pos), `flip at ${pos}`);
  }
});

test('truncation at every byte: whole records read, a partial one is DATA_CORRUPT at its start', async () => {
  const starts = new Set(boundaries);
  for (let len = 0; len < original.length; len++) {
    const r = await withFile(original.subarray(0, len));
    if (starts.has(len) || len === 0) {
      assert.equal(r.clips?.length, boundaries.filter((b) => b < len).length, `truncated to ${len}`);
    } else {
      assertCorruptAt(r, recordOf(len - 1), `truncated to ${len}`);
    }
  }
});

function header(len: bigint): Buffer {
  const h = Buffer.alloc(12);
  h.writeBigUInt64LE(len, 0);
  h.writeUInt32LE(maskedCrc32c(h, 0, 8), 8);
  return h;
}

test('lengths with valid CRCs but absurd values are refused without allocating', async () => {
  const second = boundaries[1]!;
  for (const len of [2n ** 60n, 2n ** 64n - 1n, 2n ** 32n, 64n << 20n, 1n << 40n]) {
    const bytes = Buffer.concat([original.subarray(0, second), header(len), original.subarray(second + 12)]);
    const r = await withFile(bytes);
    assertCorruptAt(r, second, `length ${len}`);
    assert.match((r.error as Error).message, /exceeds limit|truncated/);
  }
  // Plausible but wrong lengths: longer runs past the end, shorter breaks the payload CRC.
  const realLen = BigInt(original.readBigUInt64LE(second));
  for (const len of [realLen + 1n, realLen - 1n, 0n, realLen + 100_000n]) {
    const bytes = Buffer.concat([original.subarray(0, second), header(len), original.subarray(second + 12)]);
    assertCorruptAt(await withFile(bytes), second, `length ${len}`);
  }
});

function clipInvariants(c: Clip): void {
  assert.equal(typeof c.videoId, 'string');
  assert.ok(Number.isFinite(c.startSeconds) || Number.isNaN(c.startSeconds));
  assert.equal(c.embeddings.length, c.seconds * 128);
  for (const l of c.labels) assert.ok(Number.isInteger(l) && l >= 0 && l < 527);
}

test('payload fuzz behind valid CRCs: the protobuf decoder yields valid clips or DATA_CORRUPT, nothing else', async () => {
  const rand = rng(2);
  const payloads = boundaries.map((b) => original.subarray(b + 12, b + 12 + Number(original.readBigUInt64LE(b))));
  let corrupt = 0;
  let parsed = 0;
  for (let trial = 0; trial < 3000; trial++) {
    const p = Buffer.from(payloads[trial % payloads.length]!);
    const mode = trial % 4;
    let mutated: Buffer;
    if (mode === 0) {
      for (let k = 0, n = 1 + Math.floor(rand() * 4); k < n; k++) p[Math.floor(rand() * p.length)] = Math.floor(rand() * 256);
      mutated = p;
    } else if (mode === 1) {
      mutated = p.subarray(0, Math.floor(rand() * p.length));
    } else if (mode === 2) {
      // Splice random bytes in: breaks nesting lengths in the middle of the message.
      const at = Math.floor(rand() * p.length);
      mutated = Buffer.concat([p.subarray(0, at), Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 12) }, () => Math.floor(rand() * 256))), p.subarray(at)]);
    } else {
      mutated = Buffer.from(Array.from({ length: Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
    }
    const r = await withFile(encodeTFRecords([mutated]));
    if (r.error !== undefined) {
      assert.ok(isEarshotError(r.error, 'DATA_CORRUPT'), `trial ${trial}: ${String(r.error)}`);
      assert.match((r.error as Error).message, /f\/x\.tfrecord at byte 0/);
      corrupt++;
    } else {
      for (const c of r.clips!) clipInvariants(c);
      parsed++;
    }
  }
  assert.ok(corrupt > 2000, `${corrupt} corrupt, ${parsed} parsed`);
});

test('well-formed protobuf with wrong AudioSet content is DATA_CORRUPT naming the problem', async () => {
  const base: Clip = { videoId: 'abc', startSeconds: 0, labels: [1], embeddings: new Uint8Array(256), seconds: 2 };
  const cases: [Clip, RegExp][] = [
    [{ ...base, labels: [527] }, /label 527 of abc outside \[0, 527\)/],
    [{ ...base, labels: [-1] }, /label -1/],
    [{ ...base, embeddings: new Uint8Array(255) }, /audio_embedding second 1 of abc must be one 128-byte string/],
  ];
  for (const [clip, re] of cases) {
    const r = await withFile(encodeTFRecords([encodeAudioSetClip(clip)]), { verifyCrc: true });
    assert.ok(isEarshotError(r.error, 'DATA_CORRUPT') && re.test((r.error as Error).message), `${re}: ${String(r.error)}`);
  }
  // A smaller class count (a subset label map) is enforced too.
  const r = await withFile(encodeTFRecords([encodeAudioSetClip({ ...base, labels: [10] })]), { numClasses: 10 });
  assert.ok(isEarshotError(r.error, 'DATA_CORRUPT'));
});
