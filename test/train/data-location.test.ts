import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { openStorage } from '../../src/storage/index.js';
import { metadataBeside } from '../../src/train/datasets/audioset.js';
import { runCli } from '../helpers/cli.js';
import { startS3rver } from '../helpers/s3.js';

// Issue #20 defect 7: a missing --data named labels at file:///metadata; an S3 prefix gave `invalid storage key "x/../../metadata"`.
test('metadataBeside: AudioSet <root>/metadata two levels above features/<split>, on paths, file: and s3: URLs', () => {
  assert.equal(metadataBeside('/data/audioset/features/eval'), '/data/audioset/metadata');
  assert.equal(metadataBeside('/data/audioset/features/eval/'), '/data/audioset/metadata');
  assert.equal(metadataBeside('file:///data/audioset/features/eval'), '/data/audioset/metadata');
  assert.equal(metadataBeside('s3://b/root/features/eval'), 's3://b/root/metadata');
  assert.equal(metadataBeside('s3://b/features/eval/'), 's3://b/metadata');
  assert.equal(metadataBeside('s3://b/x'), undefined);
  assert.equal(metadataBeside('s3://b'), undefined);
});

test('train --data /missing names the data directory: DATA_NOT_FOUND, exit 2', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-train-data-'));
  try {
    const missing = join(dir, 'nope');
    const r = await runCli(['train', '--data', missing, '--out', join(dir, 'out')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error \[DATA_NOT_FOUND\]: --data \S*nope: no such directory/);
    assert.doesNotMatch(r.stderr, /metadata/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train --data s3://bucket/x: an empty prefix is DATA_NOT_FOUND, a shallow one asks for --labels, never an invalid key', async () => {
  const s3 = await startS3rver();
  const dir = mkdtempSync(join(tmpdir(), 'earshot-train-data-s3-'));
  try {
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ storage: { s3: s3.config.s3 } }));
    const empty = await runCli(['-c', cfg, 'train', '--data', s3.url('x'), '--out', join(dir, 'out')]);
    assert.equal(empty.code, 2, empty.stderr);
    assert.match(empty.stderr, /^error \[DATA_NOT_FOUND\]: --data s3:\/\/\S+\/x: no such directory or prefix/m);
    await openStorage(s3.url(), s3.config).writeAtomic('x/part-0.tfrecord', Buffer.alloc(0));
    const shallow = await runCli(['-c', cfg, 'train', '--data', s3.url('x'), '--out', join(dir, 'out')]);
    assert.equal(shallow.code, 2, shallow.stderr);
    assert.match(shallow.stderr, /^error \[INPUT_INVALID\]: no --labels given and --data s3:\/\/\S+\/x is not inside an AudioSet tree/m);
    assert.doesNotMatch(shallow.stderr, /invalid storage key/);
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
