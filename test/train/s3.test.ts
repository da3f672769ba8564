import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import { runCli } from '../helpers/cli.js';
import { startS3rver } from '../helpers/s3.js';
import { s3TrainSetup } from './s3-fixture.js';

test('earshot train reads TFRecords from S3, checkpoints to S3, resumes from S3 and writes the model there', async () => {
  const s3 = await startS3rver();
  const dir = mkdtempSync(join(tmpdir(), 'earshot-train-s3-'));
  try {
    const { store, args } = await s3TrainSetup(s3, dir);
    const a = await runCli([...args, '--iterations', '2']);
    assert.equal(a.code, 0, a.stderr);
    const b = await runCli([...args, '--iterations', '3', '--resume']);
    assert.equal(b.code, 0, b.stderr);
    const keys = await store.list('model/');
    for (const k of ['model/manifest.json', 'model/weights.bin', 'model/labels.csv', 'model/history.json']) assert.ok(keys.includes(k), `${k} in ${keys.join(', ')}`);
    const history = JSON.parse((await store.read('model/history.json')).toString()) as Array<{ iteration: number }>;
    assert.deepEqual(
      history.map((h) => h.iteration),
      [1, 2, 3],
    );
    const ck = keys.find((k) => /model\/checkpoints\/iter-000000003\/state\.bin$/.test(k));
    assert.ok(ck, `checkpoint 3 in ${keys.join(', ')}`);
    assert.equal(decodeCheckpoint(await store.read(ck), ck).iteration, 3);
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
