import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { runCli } from '../helpers/cli.js';
import { f32 } from '../helpers/numeric.js';
import { sharedPath } from '../helpers/shared.js';
import { tempDir } from '../helpers/tmp.js';

interface GoldenCase {
  wav: string;
  logmel: string;
  shape: [number, number, number];
  channels: number;
}

const goldenDir = sharedPath('golden', 'vggish-frontend');
const cases = Object.entries(JSON.parse(readFileSync(join(goldenDir, 'index.json'), 'utf8')) as Record<string, GoldenCase>);
const tmp = tempDir('features');

// Every case listed in the golden index (so unseen cases added there are covered too).
for (const [name, c] of cases) {
  test(`earshot features matches golden VGGish log-mel: ${name}`, async () => {
    const out = join(tmp, `${name}.f32`);
    const r = await runCli(['features', join(goldenDir, c.wav), '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { shape: number[] };
    assert.deepEqual(summary.shape, c.shape);
    const got = f32(out);
    const want = f32(join(goldenDir, c.logmel));
    assert.equal(got.length, want.length);
    let maxAbs = 0;
    for (let i = 0; i < got.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got[i]! - want[i]!));
    assert.ok(maxAbs <= 1e-4, `max abs diff ${maxAbs} > 1e-4`);
  });
}

test('raw stdin (streaming operator) gives the same patches as the file (batch)', async () => {
  const [, c] = cases.find(([, v]) => v.shape[0] >= 2 && v.channels === 1)!;
  const wav = readFileSync(join(goldenDir, c.wav));
  // 16-bit mono WAV: skip to the data chunk.
  const dataAt = wav.indexOf(Buffer.from('data')) + 8;
  const pcm = wav.subarray(dataAt);
  const rate = wav.readUInt32LE(24);
  assert.equal(wav.readUInt16LE(22), 1);
  const viaFile = join(tmp, 'file.f32');
  const viaStdin = join(tmp, 'stdin.f32');
  const a = await runCli(['features', join(goldenDir, c.wav), '--out', viaFile]);
  const b = await runCli(['features', '-', '--raw', 's16le', '--rate', String(rate), '--out', viaStdin], { input: pcm });
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, new RegExp(`^\\[${c.shape.join(', ')}\\]`));
  assert.deepEqual(f32(viaStdin), f32(viaFile));
});

test('bad input gives typed errors and exit code 2, never a crash', async () => {
  const missing = await runCli(['features', join(tmp, 'nope.wav')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /AUDIO_FILE_NOT_FOUND.*nope\.wav/);
  const empty = join(tmp, 'empty.wav');
  writeFileSync(empty, '');
  const e = await runCli(['features', empty]);
  assert.equal(e.code, 2);
  assert.match(e.stderr, /AUDIO_FILE_EMPTY/);
  const junk = join(tmp, 'junk.xyz');
  writeFileSync(junk, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 255)));
  const j = await runCli(['features', junk]);
  assert.equal(j.code, 2);
  assert.match(j.stderr, /AUDIO_(CODEC_UNSUPPORTED|DECODE_FAILED)/);
  const hop = await runCli(['features', join(goldenDir, cases[0]![1].wav), '--hop-seconds', 'abc']);
  assert.equal(hop.code, 2);
  assert.match(hop.stderr, /INPUT_INVALID.*--hop-seconds.*abc/);
});
