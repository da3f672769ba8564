import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync,readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { writeFormulaVggishDir } from '../../src/models/vggish/index.js';
import { runCli } from '../helpers/cli.js';
import { f32 } from '../helpers/numeric.js';
import { sharedPath } from '../helpers/shared.js';

// `earshot embed` end to end: a formula-weight model directory with the real PCA npz,
// patches from shared/golden/vggish-net, output compared to the golden files.

let root = '';
let modelDir = '';
const golden = (name: string) => sharedPath('golden', 'vggish-net', name);

before(() => {
  root = mkdtempSync(join(tmpdir(), 'earshot-embed-'));
  modelDir = join(root, 'vggish');
  writeFormulaVggishDir(modelDir, sharedPath('models', 'vggish', 'vggish_pca_params.npz'));
});

after(() => rmSync(root, { recursive: true, force: true }));

test('embed --patches --raw writes float32 [9,128] equal to embedding.f32 and caches the compiled graph', async () => {
  const out = join(root, 'raw.f32');
  const r = await runCli(['embed', '--model', modelDir, '--engine', 'onnx', '--patches', golden('input.f32'), '--raw', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /embeddings \[9,128\] float32 via onnx\/cpu/);
  const got = f32(readFileSync(out));
  const ref = f32(readFileSync(golden('embedding.f32')));
  assert.equal(got.length, ref.length);
  let d = 0;
  let m = 0;
  ref.forEach((v, i) => {
    d = Math.max(d, Math.abs(v - got[i]!));
    m = Math.max(m, Math.abs(v));
  });
  assert.ok(d / m < 1e-3, `relative diff ${d / m}`);
  assert.ok(readdirSync(join(modelDir, 'cache')).some((f) => f.endsWith('.onnx')), 'compiled ONNX graph cached in <model>/cache');
});

test('embed --patches (default) writes PCA-quantised uint8 equal to postprocessed.u8 within ±1', async () => {
  const out = join(root, 'q.u8');
  const r = await runCli(['embed', '--model', modelDir, '--patches', golden('input.f32'), '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /embeddings \[9,128\] uint8 via onnx\/cpu/);
  const got = readFileSync(out);
  const ref = readFileSync(golden('postprocessed.u8'));
  assert.equal(got.length, ref.length);
  got.forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) <= 1, `byte ${i}: ${v} vs ${ref[i]}`));
});

test('embed --json on tfjs reports engine, backend and shape', async () => {
  const patches = join(root, 'one.f32');
  const one = readFileSync(golden('input.f32')).subarray(0, 96 * 64 * 4);
  (await import('node:fs')).writeFileSync(patches, one);
  const r = await runCli(['embed', '--model', modelDir, '--engine', 'tfjs', '--patches', patches, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { shape: number[]; engine: string; backend: string; dtype: string; embeddings: number[][] };
  assert.deepEqual(j.shape, [1, 128]);
  assert.equal(j.engine, 'tfjs');
  assert.equal(j.backend, 'wasm', 'tfjs-node is absent here, so tfjs falls back to wasm');
  assert.equal(j.dtype, 'uint8');
  assert.match(r.stderr, /embeddings \[1,128\] uint8 via tfjs\/wasm/, 'status goes to stderr when the data goes to stdout');
  const ref = readFileSync(golden('postprocessed.u8')).subarray(0, 128);
  j.embeddings[0]!.forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) <= 1));
});

test('embed reports bad usage, missing models and bad patch files with codes', async () => {
  const none = await runCli(['embed', '--model', modelDir]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /error \[INPUT_INVALID\]: give either an audio file or --patches/);
  const missing = await runCli(['embed', '--model', join(root, 'nope'), '--patches', golden('input.f32')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /error \[MODEL_NOT_FOUND\]/);
  const odd = await runCli(['embed', '--model', modelDir, '--patches', golden('postprocess_output.u8')]);
  assert.equal(odd.code, 2);
  assert.match(odd.stderr, /error \[INPUT_INVALID\]: .*postprocess_output\.u8: 1152 bytes/);
  assert.ok(!existsSync(join(root, 'nope')));
});

test('embed <audio>: decoded, resampled and framed audio gives the golden rows (48 kHz noise raw, 16 kHz bursts uint8)', async () => {
  const raw = join(root, 'noise48k.f32');
  const r1 = await runCli(['embed', '--model', modelDir, sharedPath('golden', 'vggish-frontend', 'noise48k.wav'), '--raw', '-o', raw]);
  assert.equal(r1.code, 0, r1.stderr);
  const got = f32(readFileSync(raw));
  const ref = f32(readFileSync(golden('embedding.f32'))).subarray(7 * 128, 9 * 128); // cases: sine1k (3), bursts (4), noise48k (2)
  assert.equal(got.length, ref.length);
  let d = 0;
  let m = 0;
  ref.forEach((v, i) => {
    d = Math.max(d, Math.abs(v - got[i]!));
    m = Math.max(m, Math.abs(v));
  });
  assert.ok(d / m < 1e-3, `relative diff ${d / m}`);
  const q = join(root, 'bursts.u8');
  const r2 = await runCli(['embed', '--model', modelDir, sharedPath('golden', 'vggish-frontend', 'bursts.wav'), '-o', q]);
  assert.equal(r2.code, 0, r2.stderr);
  assert.match(r2.stdout, /embeddings \[4,128\] uint8/);
  const qref = readFileSync(golden('postprocessed.u8')).subarray(3 * 128, 7 * 128);
  readFileSync(q).forEach((v, i) => assert.ok(Math.abs(v - qref[i]!) <= 1, `byte ${i}`));
  const short = await runCli(['embed', '--model', modelDir, sharedPath('golden', 'vggish-frontend', 'short.wav')]);
  assert.equal(short.code, 2);
  assert.match(short.stderr, /error \[AUDIO_FILE_EMPTY\]: .*short\.wav: 0\.900 s/);
});
