import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import type { ErrorCode } from '../../src/errors.js';
import { readCheckpointV1 } from '../../src/models/import/ckpt-v1.js';
import { readCheckpointV2 } from '../../src/models/import/ckpt-v2.js';
import { memoryStorage } from '../../src/storage/memory.js';
import { parseAudioSetRecord } from '../../src/train/datasets/audioset.js';
import { readTFRecords } from '../../src/train/datasets/tfrecord.js';
import { writeCheckpointV1, writeCheckpointV2 } from '../helpers/checkpoints.js';
import { asRawTensors, miniVggishTable, seededWeights } from '../helpers/import-fixtures.js';
import { rng } from '../helpers/rng.js';
import { sharedPath } from '../helpers/shared.js';
import { FUZZ_CASES, mutateBytes } from './cases.js';
import { runCase, tally } from './guard.js';

/**
 * Training data and checkpoints under seeded byte mutation: a real AudioSet TFRecord file (its first
 * records) read and parsed as SequenceExamples, and TF V1/V2 checkpoints of the VGGish variable table.
 * Every case ends in data or a typed error, within guard.ts's time and RSS limits.
 */
const root = mkdtempSync(join(tmpdir(), 'earshot-fuzz-data-'));
after(() => rmSync(root, { recursive: true, force: true }));

const MODEL_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['MODEL_INVALID', 'DATA_CORRUPT', 'DATA_UNSUPPORTED', 'MODEL_NOT_FOUND', 'MODEL_UNKNOWN_VARIABLE', 'MODEL_SHAPE_MISMATCH']);

test(`TFRecord: ${FUZZ_CASES} byte mutations of real AudioSet records, read and parsed`, async () => {
  // the first records of a real file: big enough for every structure, small enough to mutate often
  const full = readFileSync(sharedPath('data/audioset/features/bal_train/yi.tfrecord'));
  const storage = memoryStorage();
  await storage.writeAtomic('full', full);
  let end = 0;
  const payloads: [number, number][] = [];
  for await (const r of readTFRecords(storage, 'full')) {
    end = r.offset + 16 + r.payload.length;
    payloads.push([r.offset + 12, end - 4]);
    if (payloads.length === 4) break;
  }
  // structure-aware: overwrite bytes inside one payload (framing intact) so the protobuf parser sees them
  const editPayload = (src: Uint8Array, seed: number): Uint8Array => {
    const r = rng(seed);
    const b = Uint8Array.from(src);
    const [from, to] = payloads[Math.floor(r() * payloads.length)]!;
    for (let k = 0, n = 1 + Math.floor(r() * 8); k < n; k++) b[from + Math.floor(r() * (to - from))] = [0, 0xff, 0x80, 0x7f, 0x0a, 0x12, 0x1a, Math.floor(r() * 256)][Math.floor(r() * 8)]!;
    return b;
  };
  const original = full.subarray(0, end);
  const outcomes: Record<string, number> = {};
  const base = process.memoryUsage().rss;
  for (let seed = 1; seed <= FUZZ_CASES; seed++) {
    await storage.writeAtomic('case', seed % 2 ? mutateBytes(original, seed) : editPayload(original, seed));
    // CRCs on: a flip is DATA_CORRUPT. CRCs off (as a reader that trusts its disk would): the parser sees the damage.
    tally(
      outcomes,
      await runCase(`seed ${seed} crc`, new Set<ErrorCode>(['DATA_CORRUPT']), base, async () => {
        for await (const r of readTFRecords(storage, 'case')) assert.ok(r.payload.length >= 0);
      }),
    );
    tally(
      outcomes,
      await runCase(`seed ${seed} parse`, new Set<ErrorCode>(['DATA_CORRUPT', 'DATA_UNSUPPORTED', 'INPUT_INVALID']), base, async () => {
        for await (const r of readTFRecords(storage, 'case', { verifyCrc: false })) {
          const clip = parseAudioSetRecord(r.payload, { url: 'mem://case', key: 'case', offset: r.offset });
          assert.equal(clip.embeddings.length, clip.seconds * 128);
        }
      }),
    );
  }
  assert.ok((outcomes.DATA_CORRUPT ?? 0) > 0, JSON.stringify(outcomes));
  console.log(`tfrecord fuzz: ${JSON.stringify(outcomes)}`);
});

test(`TF checkpoints: ${FUZZ_CASES} byte mutations each of a V1 file and a V2 index and data shard`, async () => {
  const tensors = asRawTensors(seededWeights(miniVggishTable(), 7));
  const v1 = join(root, 'v1.ckpt');
  const v2 = join(root, 'v2.ckpt');
  writeCheckpointV1(v1, tensors);
  writeCheckpointV2(v2, tensors);
  const files = [v1, `${v2}.index`, `${v2}.data-00000-of-00001`];
  const originals = files.map((f) => readFileSync(f));
  const outcomes: Record<string, number> = {};
  const base = process.memoryUsage().rss;
  for (let seed = 1; seed <= FUZZ_CASES; seed++) {
    for (const [i, f] of files.entries()) {
      writeFileSync(f, mutateBytes(originals[i]!, seed * 31 + i));
      tally(
        outcomes,
        await runCase(`${f} seed ${seed}`, MODEL_ERRORS, base, () => {
          const r = i === 0 ? readCheckpointV1(v1) : readCheckpointV2(v2);
          assert.ok(r !== undefined);
        }),
      );
      writeFileSync(f, originals[i]!);
    }
  }
  assert.ok(
    Object.keys(outcomes).some((k) => k !== 'ok'),
    JSON.stringify(outcomes),
  );
  console.log(`checkpoint fuzz: ${JSON.stringify(outcomes)}`);
});
