import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { openStorage } from '../../src/storage/open.js';
import { run } from '../e2e/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { startS3rver } from '../helpers/s3.js';
import { sharedPath } from '../helpers/shared.js';

/**
 * `earshot index s3://bucket/prefix` against a real S3 server (s3rver): every audio
 * object under the prefix (recursively) is indexed under its s3:// URL, others are
 * ignored, a corrupt object is reported and skipped, and a second run skips them all.
 */
test('earshot index s3://bucket/prefix: objects indexed under their URL, resumable, a corrupt one reported', { timeout: 300_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-index-s3-'));
  const s3 = await startS3rver();
  t.after(async () => {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const model = join(dir, 'yamnet');
  assert.equal((await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model])).code, 0);
  run('espeak-ng', ['-w', join(dir, 'speech.wav'), 'An archive in an object store.']);
  const storage = openStorage(s3.url('archive'), s3.config);
  await storage.writeAtomic('speech.wav', readFileSync(join(dir, 'speech.wav')));
  await storage.writeAtomic('deep/bell.oga', readFileSync('/usr/share/sounds/freedesktop/stereo/bell.oga'));
  await storage.writeAtomic('deep/broken.wav', Buffer.from('RIFF not really a wave file'));
  await storage.writeAtomic('notes.txt', Buffer.from('not audio'));
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify({ storage: { s3: s3.config.s3 }, models: { yamnetDir: model } }));
  const db = join(dir, 'h.sqlite');

  const first = await runCli(['-c', cfg, 'index', s3.url('archive'), '--db', db, '--workers', '1']);
  assert.equal(first.code, 1, `a failed object makes the exit code 1: ${first.stderr}`);
  assert.match(first.stderr, /failed \[\w+\] s3:\/\/[^ ]*deep\/broken\.wav/);
  assert.match(first.stderr, /indexed 2, skipped 0 unchanged, failed 1/);
  const store = new SqliteHistoryStore(db, { readonly: true });
  const base = s3.url('archive').replace(/\/+$/, '');
  assert.deepEqual((await store.sources()).map((s) => s.stream.name).sort(), [`${base}/deep/bell.oga`, `${base}/speech.wav`]);
  assert.ok((await store.fileState(`${base}/speech.wav`))!.durationSeconds > 1);
  await store.close();

  const second = await runCli(['-c', cfg, 'index', s3.url('archive'), '--db', db, '--workers', '1']);
  assert.match(second.stderr, /indexed 0, skipped 2 unchanged, failed 1/);
});
