import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { type EngineConfig,engineSchema } from '../../src/config/sections/engine.js';
import { isEarshotError } from '../../src/errors.js';
import { runReference } from '../../src/models/graph/reference.js';
import { readModelDir } from '../../src/models/modeldir.js';
import { yamnetGraph } from '../../src/models/yamnet/graph.js';
import { importYamnet } from '../../src/models/yamnet/import.js';
import { loadYamnetTagger } from '../../src/models/yamnet/tagger.js';
import { maxAbsDiff } from '../helpers/numeric.js';
import { sharedPath } from '../helpers/shared.js';

let root = '';
let dir = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'earshot-yamnet-eng-'));
  dir = join(root, 'yamnet');
  importYamnet({ tflitePath: sharedPath('models/yamnet/yamnet.tflite'), outDir: dir });
});
after(() => rmSync(root, { recursive: true, force: true }));

const engine = (kind: EngineConfig['kind'], tfjsBackend: EngineConfig['tfjsBackend'] = 'auto'): EngineConfig => engineSchema.parse({ kind, tfjsBackend, threads: 2, batchSize: 4 });

/** The Coral speech patch plus variants covering other input statistics (time-reversed, quieter, silence at log(0.001)). */
function patches(): { data: Float32Array; count: number } {
  const b = readFileSync(sharedPath('models/yamnet/testdata/yamnet_test_spectra.bin'));
  const speech = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const reversed = new Float32Array(speech.length);
  for (let f = 0; f < 96; f++) reversed.set(speech.subarray((95 - f) * 64, (96 - f) * 64), f * 64);
  const quieter = speech.map((v) => v - 2.5);
  const silence = new Float32Array(speech.length).fill(Math.log(0.001));
  const data = new Float32Array(5 * 6144);
  [speech, reversed, quieter, silence, speech].forEach((p, i) => data.set(p, i * 6144));
  return { data, count: 5 };
}

test('ONNX and TF.js (wasm) engines agree on YAMNet scores within 1e-3 and match the reference', async (t) => {
  const onnx = await loadYamnetTagger(dir, engine('onnx'));
  const wasm = await loadYamnetTagger(dir, engine('tfjs', 'wasm'));
  t.after(async () => {
    await onnx.dispose();
    await wasm.dispose();
  });
  assert.equal(onnx.backend, 'onnx/cpu');
  assert.equal(wasm.backend, 'tfjs/wasm');
  const { data, count } = patches();
  const a = await onnx.scorePatches(data, count);
  const b = await wasm.scorePatches(data, count);
  assert.equal(a.scores.length, count * 521);
  assert.equal(a.embeddings.length, count * 1024);
  const ds = maxAbsDiff(a.scores, b.scores);
  assert.ok(ds <= 1e-3, `scores differ by ${ds}`);
  const de = maxAbsDiff(a.embeddings, b.embeddings);
  assert.ok(de <= 1e-3, `embeddings differ by ${de}`);
  // Batch rows are independent: patch 0 and patch 4 are the same input.
  assert.ok(maxAbsDiff(a.scores.subarray(0, 521), a.scores.subarray(4 * 521, 5 * 521)) <= 1e-6);
  // The plain-loop reference implementation of the graph IR gives the same function.
  const ref = runReference(yamnetGraph(), readModelDir(dir).weights, data.subarray(0, 6144), 1);
  assert.ok(maxAbsDiff(ref.scores!, a.scores.subarray(0, 521)) <= 1e-4);
  // Speech is top-1 for the speech patch on both engines; silence is not speech.
  const top = (s: Float32Array, row: number) => {
    const r = s.subarray(row * 521, (row + 1) * 521);
    return onnx.labels[r.indexOf(Math.max(...r))]!.name;
  };
  assert.equal(top(a.scores, 0), 'Speech');
  assert.equal(top(b.scores, 0), 'Speech');
  assert.notEqual(top(a.scores, 3), 'Speech');
});

test('TF.js cpu backend (plain JS kernels) agrees on the speech patch', async (t) => {
  const onnx = await loadYamnetTagger(dir, engine('onnx'));
  const cpu = await loadYamnetTagger(dir, engine('tfjs', 'cpu'));
  t.after(async () => {
    await onnx.dispose();
    await cpu.dispose();
  });
  const speech = patches().data.subarray(0, 6144);
  const d = maxAbsDiff((await onnx.scorePatches(speech, 1)).scores, (await cpu.scorePatches(speech, 1)).scores);
  assert.ok(d <= 1e-3, `scores differ by ${d}`);
});

test('a session tags one patch like the batch path; bad patches and wrong model dirs are typed errors', async (t) => {
  const tagger = await loadYamnetTagger(dir, engine('auto'));
  t.after(() => tagger.dispose());
  assert.equal(tagger.labels.length, 521);
  assert.deepEqual(tagger.frontend, { sampleRateHz: 16000, stftWindowSeconds: 0.025, stftHopSeconds: 0.01, melBands: 64, melMinHz: 125, melMaxHz: 7500, patchFrames: 96, logOffset: 0.001, patchHopSeconds: 0.48 });
  const { data } = patches();
  const session = tagger.openSession();
  const one = await session.tag({ data: data.slice(6144, 2 * 6144), index: 1, startSeconds: 0.48, frames: 96, bands: 64 });
  const batch = await tagger.scorePatches(data.subarray(0, 2 * 6144), 2);
  assert.ok(maxAbsDiff(one, batch.scores.subarray(521, 1042)) <= 1e-5);
  await assert.rejects(session.tag({ data: new Float32Array(96 * 128), index: 7, startSeconds: 0, frames: 96, bands: 128 }), (e) => isEarshotError(e, 'INPUT_INVALID') && /patch 7 is 96x128/.test(e.message));
  await assert.rejects(loadYamnetTagger(join(root, 'nowhere'), engine('auto')), (e) => isEarshotError(e, 'MODEL_NOT_FOUND'));
});
