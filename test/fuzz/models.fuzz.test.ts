import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';

import type { ErrorCode } from '../../src/errors.js';
import { readPthBuffer } from '../../src/models/import/pth.js';
import { tensorToFloat32 } from '../../src/models/tflite/dequantize.js';
import { parseTflite } from '../../src/models/tflite/schema.js';
import { rng } from '../helpers/rng.js';
import { sharedPath } from '../helpers/shared.js';
import { FUZZ_CASES, mutateBytes } from './cases.js';
import { runCase, tally } from './guard.js';

/**
 * The real model files under seeded mutation, restricted to their structure (the weights themselves
 * are opaque floats): YAMNet's .tflite flatbuffer (its first and last 64 KiB, where the root table,
 * vtables and tensor metadata live) parsed and every tensor dequantized; EfficientAT's torch.save zip
 * (data.pkl edited with its CRC-32 fixed up so the unpickler sees the damage, the central directory,
 * and the first 64 KiB byte-wise) read into tensors. Both end in a model or a typed MODEL_* / DATA_* error.
 */
const ALLOWED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['MODEL_INVALID', 'DATA_CORRUPT', 'DATA_UNSUPPORTED', 'MODEL_UNKNOWN_VARIABLE', 'MODEL_SHAPE_MISMATCH']);
const REGION = 64 * 1024;
const WEIGHT_TYPES = new Set(['FLOAT32', 'FLOAT16', 'INT8', 'UINT8', 'INT16']);
const HOSTILE32 = [0, 1, 4, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffff0, 0x10000];

/** Edits only inside [from, to): bytes or hostile little-endian u32s (offsets, lengths, counts). */
function editRegion(src: Uint8Array, ranges: readonly (readonly [number, number])[], seed: number): Uint8Array {
  const r = rng(seed);
  const b = Uint8Array.from(src);
  const dv = new DataView(b.buffer);
  for (let k = 0, n = 1 + Math.floor(r() * 4); k < n; k++) {
    const [from, to] = ranges[Math.floor(r() * ranges.length)]!;
    const at = from + Math.floor(r() * (to - from - 4));
    if (r() < 0.5) dv.setUint32(at & ~3, HOSTILE32[Math.floor(r() * HOSTILE32.length)]!, true);
    else b[at] = r() < 0.5 ? b[at]! ^ (1 << Math.floor(r() * 8)) : [0, 0xff, 0x7f, 0x80][Math.floor(r() * 4)]!;
  }
  return b;
}

test(`tflite: ${FUZZ_CASES} edits of YAMNet's flatbuffer structure, parsed and dequantized`, async () => {
  const original = readFileSync(sharedPath('models/yamnet/yamnet.tflite'));
  const ranges = [
    [0, REGION],
    [original.length - REGION, original.length],
  ] as const;
  const outcomes: Record<string, number> = {};
  const base = process.memoryUsage().rss;
  for (let seed = 1; seed <= FUZZ_CASES; seed++) {
    // byte mutations (incl. truncation) of the head alone, and in-place edits of head and tail
    const bytes = seed % 3 === 0 ? mutateBytes(original.subarray(0, REGION), seed) : editRegion(original, ranges, seed);
    tally(
      outcomes,
      await runCase(`tflite seed ${seed}`, ALLOWED, base, () => {
        const m = parseTflite(bytes, `seed-${seed}.tflite`);
        for (const g of m.subgraphs)
          for (const t of g.tensors) {
            // activations have no constant data; int32 constants (shapes, axes) are not weights
            if ((m.buffers[t.buffer]?.length ?? 0) === 0 || !WEIGHT_TYPES.has(t.type)) continue;
            assert.ok(tensorToFloat32(m, t).length >= 0);
          }
      }),
    );
  }
  assert.ok((outcomes.MODEL_INVALID ?? 0) > 0, JSON.stringify(outcomes));
  console.log(`tflite fuzz: ${JSON.stringify(outcomes)}`);
});

interface ZipLayout {
  readonly pkl: readonly [number, number];
  /** data.pkl's CRC-32 in the central directory and in the data descriptor after it (torch writes flag bit 3). */
  readonly crcAt: readonly number[];
  readonly central: readonly [number, number];
}

/** Where data.pkl, its CRC-32 fields and the central directory sit in a stored (uncompressed) torch zip. */
function zipLayout(b: Uint8Array): ZipLayout {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  let eocd = b.length - 22;
  while (eocd > 0 && dv.getUint32(eocd, true) !== 0x06054b50) eocd--;
  const cdAt = dv.getUint32(eocd + 16, true);
  assert.equal(dv.getUint32(cdAt, true), 0x02014b50);
  const name = new TextDecoder().decode(b.subarray(cdAt + 46, cdAt + 46 + dv.getUint16(cdAt + 28, true)));
  assert.ok(name.endsWith('data.pkl') && dv.getUint16(cdAt + 10, true) === 0, `first entry is ${name}, method ${dv.getUint16(cdAt + 10, true)}`);
  const local = dv.getUint32(cdAt + 42, true);
  const start = local + 30 + dv.getUint16(local + 26, true) + dv.getUint16(local + 28, true);
  const end = start + dv.getUint32(cdAt + 20, true);
  const crcAt = [cdAt + 16, local + 14];
  if (dv.getUint16(local + 6, true) & 8) crcAt.push(dv.getUint32(end, true) === 0x08074b50 ? end + 4 : end);
  return { pkl: [start, end], crcAt, central: [cdAt, b.length] };
}

test(`torch .pt zip: ${FUZZ_CASES} pickle edits (CRC fixed), central-directory edits and header mutations of EfficientAT`, async () => {
  const original = readFileSync(sharedPath('models/efficientat/mn04_as_mAP_432.pt'));
  const z = zipLayout(original);
  assert.ok(readPthBuffer(original, 'original.pt').tensors.length > 100);
  const outcomes: Record<string, number> = {};
  const base = process.memoryUsage().rss;
  for (let seed = 1; seed <= FUZZ_CASES; seed++) {
    let bytes: Uint8Array;
    if (seed % 3 === 1) {
      // the unpickler's input: opcodes, arguments, memo indices and persistent ids, with a valid CRC-32
      bytes = editRegion(original, [z.pkl], seed);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      const crc = crc32(bytes.subarray(z.pkl[0], z.pkl[1]));
      for (const at of z.crcAt) dv.setUint32(at, crc, true);
    } else if (seed % 3 === 2) bytes = editRegion(original, [z.central], seed);
    else {
      const head = mutateBytes(original.subarray(0, REGION), seed);
      bytes = new Uint8Array(head.length + original.length - REGION);
      bytes.set(head);
      bytes.set(original.subarray(REGION), head.length);
    }
    tally(
      outcomes,
      await runCase(`pt seed ${seed}`, ALLOWED, base, () => {
        const r = readPthBuffer(bytes, `seed-${seed}.pt`);
        for (const t of r.tensors) assert.ok(Array.isArray(t.shape), t.name);
      }),
    );
  }
  assert.ok((outcomes.DATA_CORRUPT ?? 0) + (outcomes.MODEL_INVALID ?? 0) > 0, JSON.stringify(outcomes));
  console.log(`pt fuzz: ${JSON.stringify(outcomes)}`);
});
