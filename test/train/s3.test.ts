import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';
import { startS3rver } from '../helpers/s3.js';
import { openStorage } from '../../src/storage/index.js';
import { decodeCheckpoint } from '../../src/train/checkpoint.js';

test('earshot train reads TFRecords from S3, checkpoints to S3, resumes from S3 and writes the model there', async () => {
  const s3 = await startS3rver();
  const dir = mkdtempSync(join(tmpdir(), 'earshot-train-s3-'));
  try {
    const store = openStorage(s3.url(), s3.config);
    const src = sharedPath('data/audioset/features/bal_train');
    for (const f of readdirSync(src).filter((n) => n.endsWith('.tfrecord')).sort().slice(0, 20)) await store.writeAtomic(`bal_train/${f}`, readFileSync(join(src, f)));
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ train: { hiddenUnits: 16 }, storage: { s3: s3.config.s3 } }));
    const args = ['-c', cfg, 'train', '--data', s3.url('bal_train'), '--labels', sharedPath('data/audioset/metadata/class_labels_indices.csv'), '--batch-size', '32', '--checkpoint-every', '1', '--out', s3.url('model')];
    const a = await runCli([...args, '--iterations', '2']);
    assert.equal(a.code, 0, a.stderr);
    const b = await runCli([...args, '--iterations', '3', '--resume']);
    assert.equal(b.code, 0, b.stderr);
    const keys = await store.list('model/');
    for (const k of ['model/manifest.json', 'model/weights.bin', 'model/labels.csv', 'model/history.json']) assert.ok(keys.includes(k), `${k} in ${keys.join(', ')}`);
    const history = JSON.parse((await store.read('model/history.json')).toString()) as Array<{ iteration: number }>;
    assert.deepEqual(history.map((h) => h.iteration), [1, 2, 3]);
    const ck = keys.find((k) => /model\/checkpoints\/iter-000000003\/state\.bin$/.test(k));
    assert.ok(ck, `checkpoint 3 in ${keys.join(', ')}`);
    assert.equal(decodeCheckpoint(await store.read(ck), ck).iteration, 3);
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
