import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import wavefile from 'wavefile';

import { isEarshotError } from '../../src/errors.js';
import { writeModelDir } from '../../src/models/modeldir.js';
import { writeFileAtomic } from '../../src/storage/atomic-file.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

/**
 * Writes on a full disk: a real 64 KiB tmpfs (needs root to mount; skipped otherwise).
 * Nothing truncated is left behind, no temp files linger, and the error names the path.
 */
const root = mkdtempSync(join(tmpdir(), 'earshot-full-'));
const full = join(root, 'full');
let mounted = false;

before(() => {
  mkdirSync(full);
  mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]).status === 0;
});

after(() => {
  if (mounted) spawnSync('umount', [full]);
  rmSync(root, { recursive: true, force: true });
});

test('writeFileAtomic on a full disk: STORAGE_FAILED naming the path, the old file intact, no temp file', async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs (not root)');
  const target = join(full, 'out.bin');
  writeFileSync(target, 'old');
  await assert.rejects(writeFileAtomic(target, new Uint8Array(200 * 1024)), (e) => isEarshotError(e, 'STORAGE_FAILED') && e.message.includes(target) && /ENOSPC/.test(e.message));
  assert.equal(readFileSync(target, 'utf8'), 'old');
  assert.deepEqual(readdirSync(full), ['out.bin']);
  await writeFileAtomic(target, new Uint8Array(1000).fill(7));
  assert.equal(readFileSync(target).length, 1000);
  rmSync(target);
});

test('features -o on a full disk: exit 2, STORAGE_FAILED naming the file, nothing left behind', async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs (not root)');
  const wav = join(root, 'tone.wav');
  const w = new wavefile.WaveFile();
  w.fromScratch(1, 16000, '16', Int16Array.from({ length: 5 * 16000 }, (_, i) => Math.round(8000 * Math.sin(i / 7))) as unknown as number[]);
  writeFileSync(wav, w.toBuffer());
  const out = join(full, 'patches.f32');
  const r = await runCli(['features', wav, '-o', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`error \\[STORAGE_FAILED\\]: .*${out.replace(/[.]/g, '\\.')}.*ENOSPC`));
  assert.deepEqual(readdirSync(full), []);
});

test('models import / writeModelDir on a full disk: STORAGE_FAILED naming the directory, no .tmp directory left', async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs (not root)');
  const dir = join(full, 'model');
  const fields = { name: 'toy', architecture: 'toy', version: '1', input: { name: 'x', shape: [2] }, outputs: [{ name: 'y', shape: [3] }] };
  assert.throws(
    () => writeModelDir(dir, fields, new Map([['w', { shape: [100_000], data: new Float32Array(100_000) }]])),
    (e) => isEarshotError(e, 'STORAGE_FAILED') && e.message.includes(dir),
  );
  assert.deepEqual(readdirSync(full), []);
  const r = await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', dir]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error \[STORAGE_FAILED\]: cannot write directory .*model: ENOSPC/);
  assert.deepEqual(readdirSync(full), []);
});
