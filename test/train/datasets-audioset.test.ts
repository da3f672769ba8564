import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { storageSchema } from '../../src/config/sections/storage.js';
import { openStorage } from '../../src/storage/index.js';
import { localStorage } from '../../src/storage/local.js';
import type { Clip } from '../../src/train/contracts.js';
import { AUDIOSET_CLASSES, encodeAudioSetClip, loadClips, packClips, readAudioSetClips, type ReadProgress, writeTFRecordFile } from '../../src/train/datasets/index.js';
import { sharedPath } from '../helpers/shared.js';
import { tempDir } from '../helpers/tmp.js';

const features = () => openStorage(sharedPath('data/audioset/features'), storageSchema.parse({}));

/** YTID -> label indices from the segments CSV, via class_labels_indices.csv (mid -> index). */
function csvLabels(segmentsCsv: string): Map<string, { start: number; labels: number[] }> {
  const mids = new Map<string, number>();
  for (const line of readFileSync(sharedPath('data/audioset/metadata/class_labels_indices.csv'), 'utf8').split('\n').slice(1)) {
    const m = /^(\d+),([^,]+),/.exec(line);
    if (m) mids.set(m[2]!, Number(m[1]));
  }
  assert.equal(mids.size, AUDIOSET_CLASSES);
  const out = new Map<string, { start: number; labels: number[] }>();
  for (const line of readFileSync(sharedPath('data/audioset/metadata', segmentsCsv), 'utf8').split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const m = /^([^,]+), ([\d.]+), [\d.]+, "([^"]*)"/.exec(line);
    if (!m) continue;
    out.set(m[1]!, {
      start: Number(m[2]),
      labels: m[3]!.split(',').map((mid) => {
        const i = mids.get(mid);
        assert.ok(i !== undefined, `unknown mid ${mid}`);
        return i;
      }),
    });
  }
  return out;
}

test('bal_train: 22,160 clips, labels in range, 128-byte rows, labels agree with balanced_train_segments.csv', async () => {
  const csv = csvLabels('balanced_train_segments.csv');
  const progress: ReadProgress[] = [];
  const seen = new Set<string>();
  let clips = 0;
  let mismatched = 0;
  for await (const c of readAudioSetClips(features(), { prefix: 'bal_train/', onProgress: (p) => progress.push(p) })) {
    clips++;
    assert.ok(c.seconds >= 1 && c.seconds <= 10, `${c.videoId} has ${c.seconds} s`);
    assert.equal(c.embeddings.length, c.seconds * 128);
    assert.ok(c.labels.length > 0);
    for (const l of c.labels) assert.ok(Number.isInteger(l) && l >= 0 && l < AUDIOSET_CLASSES);
    const row = csv.get(c.videoId);
    assert.ok(row, `${c.videoId} not in the CSV`);
    assert.equal(c.startSeconds, Math.fround(row.start)); // stored as float32
    if ([...c.labels].sort((a, b) => a - b).join() !== [...row.labels].sort((a, b) => a - b).join()) mismatched++;
    seen.add(c.videoId);
  }
  assert.equal(clips, 22160);
  assert.equal(seen.size, 22160);
  // Every clip's label set is exactly the CSV's.
  assert.equal(mismatched, 0);
  const last = progress.at(-1)!;
  assert.equal(last.filesDone, last.filesTotal);
  assert.equal(last.clips, 22160);
  assert.ok(progress.every((p, i) => i === 0 || p.clips >= progress[i - 1]!.clips));
});

test('eval: 10,114 clips, all in eval_segments.csv', async () => {
  const csv = csvLabels('eval_segments.csv');
  let n = 0;
  for await (const c of readAudioSetClips(features(), { prefix: 'eval/', prefetchFiles: 0 })) {
    n++;
    assert.deepEqual(
      [...c.labels].sort((a, b) => a - b),
      [...csv.get(c.videoId)!.labels].sort((a, b) => a - b),
    );
  }
  assert.equal(n, 10114);
});

test('a spot-checked clip: --PJHxphWEs is Speech + Gush at 30 s', async () => {
  for await (const c of readAudioSetClips(features(), { prefix: 'bal_train/--' })) {
    if (c.videoId !== '--PJHxphWEs') continue;
    assert.equal(c.startSeconds, 30);
    assert.deepEqual(
      [...c.labels].sort((a, b) => a - b),
      [0, 451],
    );
    assert.equal(c.seconds, 10);
    return;
  }
  assert.fail('--PJHxphWEs not found in bal_train/--.tfrecord');
});

function clip(videoId: string, seconds: number, labels: number[], fill: (s: number, j: number) => number): Clip {
  const embeddings = Uint8Array.from({ length: seconds * 128 }, (_, i) => fill(Math.floor(i / 128), i % 128));
  return { videoId, startSeconds: 0, labels, embeddings, seconds };
}

test('packClips zero-pads short clips at the end and keeps the first 10 s of long ones (Kong pad_trunc_seq)', () => {
  const short = clip('short', 3, [5], (s, j) => 1 + s + j);
  const long = clip('long', 12, [0, 526], (s) => 100 + s);
  const p = packClips([short, long]);
  assert.equal(p.count, 2);
  assert.equal(p.x.length, 2 * 10 * 128);
  assert.equal(p.y.length, 2 * 527);
  assert.deepEqual(p.videoIds, ['short', 'long']);
  assert.deepEqual([...p.seconds], [3, 12]);
  for (let s = 0; s < 10; s++) {
    for (let j = 0; j < 128; j++) {
      assert.equal(p.x[s * 128 + j], s < 3 ? 1 + s + j : 0, `short s=${s} j=${j}`);
      assert.equal(p.x[1280 + s * 128 + j], 100 + s);
    }
  }
  assert.deepEqual(
    [...p.y.subarray(0, 527)].flatMap((v, i) => (v ? [i] : [])),
    [5],
  );
  assert.deepEqual(
    [...p.y.subarray(527)].flatMap((v, i) => (v ? [i] : [])),
    [0, 526],
  );
  assert.throws(() => packClips([clip('bad', 1, [527], () => 0)]), /label 527 of clip bad/);
});

test('loadClips reads a written dataset back packed, in key order', async () => {
  const st = localStorage(tempDir('ds'));
  const a = [clip('a1', 10, [1, 2], () => 7), clip('a2', 4, [3], () => 8)];
  const b = [clip('b1', 11, [526], () => 9)];
  await writeTFRecordFile(
    st,
    'split/b.tfrecord',
    b.map((c) => encodeAudioSetClip(c)),
  );
  await writeTFRecordFile(
    st,
    'split/a.tfrecord',
    a.map((c) => encodeAudioSetClip(c)),
  );
  await st.writeAtomic('split/notes.txt', Buffer.from('ignored'));
  const p = await loadClips(st, { prefix: 'split/', chunkBytes: 100 });
  assert.deepEqual(p.videoIds, ['a1', 'a2', 'b1']);
  assert.equal(p.x[0], 7);
  assert.equal(p.x[1280 + 3 * 128], 8);
  assert.equal(p.x[1280 + 4 * 128], 0);
  assert.equal(p.x[2 * 1280 + 9 * 128 + 127], 9);
  assert.equal(p.y[2 * 527 + 526], 1);
  assert.equal(
    p.y.reduce((s, v) => s + v, 0),
    4,
  );
});
