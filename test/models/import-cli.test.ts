import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { engineSchema } from '../../src/config/sections/engine.js';
import { readModelDir, writeModelDir } from '../../src/models/modeldir.js';
import { formulaVggishWeights } from '../../src/models/vggish/formula.js';
import { embedPatches, openVggish, pcaFromModelDir, readPcaParams } from '../../src/models/vggish/index.js';
import { writeCheckpointV1 } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { asRawTensors, miniVggishTable, seededWeights } from '../helpers/import-fixtures.js';
import { f32 } from '../helpers/numeric.js';
import { sharedPath } from '../helpers/shared.js';

// Full-size VGGish (72M parameters, formula weights) in the official checkpoint
// format, imported through the real CLI; the imported model must reproduce
// shared/golden/vggish-net. Cross-format identity runs on narrow weights in
// import-formats.test.ts (full-size copies of every format would take minutes of I/O).

let dir = '';
const f = (name: string): string => join(dir, name);
const npz = (): string => sharedPath('models/vggish/vggish_pca_params.npz');

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-import-cli-'));
  writeCheckpointV1(f('vggish_model.ckpt'), [...asRawTensors(formulaVggishWeights()), { name: 'global_step', shape: [], data: BigInt64Array.from([0n]) }]);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('the official format (single-file V1 checkpoint) imports through the CLI and reproduces the golden embeddings', async () => {
  const r = await runCli(['models', 'import', 'vggish', f('vggish_model.ckpt'), '--pca', npz(), '--out', f('m-v1')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /imported vggish \(tf-checkpoint-v1, 18 tensors, 72141184 parameters, PCA params\)/);
  assert.match(r.stdout, /ignored global_step \(DT_INT64\)/);
  const md = readModelDir(f('m-v1'));
  const m = md.manifest;
  assert.equal(m.name, 'vggish');
  assert.equal(m.architecture, 'vggish');
  assert.deepEqual(m.input, { name: 'patches', shape: [96, 64, 1] });
  assert.deepEqual(m.outputs, [{ name: 'embedding', shape: [128] }]);
  assert.equal(m.provenance?.format, 'tf-checkpoint-v1');
  assert.equal(m.provenance?.source, f('vggish_model.ckpt'));
  assert.match(String(m.provenance?.sha256), /^[0-9a-f]{64}$/);
  assert.ok(r.stdout.includes(`source sha256 ${String(m.provenance?.sha256)}`));
  assert.ok(r.stdout.includes(`weights sha256 ${m.weights.sha256}`));
  // Same bytes as the formula weights written directly.
  for (const [name, t] of formulaVggishWeights()) assert.deepEqual(md.weights.get(name)!.data, t.data, name);
  // PCA: the npz is kept verbatim (float64).
  assert.deepEqual(readFileSync(join(f('m-v1'), m.extras!.pca!)), readFileSync(npz()));
  assert.deepEqual(pcaFromModelDir(md)!.means, readPcaParams(npz()).means);

  const model = await openVggish(f('m-v1'), engineSchema.parse({ kind: 'onnx', threads: 1, batchSize: 9 }));
  try {
    const emb = await embedPatches(model.engine, f32(sharedPath('golden/vggish-net/input.f32')), 9, 9);
    const want = f32(sharedPath('golden/vggish-net/embedding.f32'));
    let d = 0;
    let mx = 0;
    for (let i = 0; i < want.length; i++) {
      d = Math.max(d, Math.abs(emb[i]! - want[i]!));
      mx = Math.max(mx, Math.abs(want[i]!));
    }
    assert.ok(d / mx < 1e-3, `relative error ${d / mx}`);
  } finally {
    await model.engine.dispose();
  }
});

test('a bad format flag and a wrong-size checkpoint fail with exit code 2 and a named error, leaving no model', async () => {
  writeCheckpointV1(f('small.ckpt'), asRawTensors(seededWeights(miniVggishTable(), 1)));
  const [bad, small] = await Promise.all([
    runCli(['models', 'import', 'vggish', f('vggish_model.ckpt'), '--format', 'onnx', '--out', f('x')]),
    runCli(['models', 'import', 'vggish', f('small.ckpt'), '--out', f('x')]),
  ]);
  for (const r of [bad, small]) assert.equal(r.code, 2, r.stderr);
  assert.match(bad.stderr, /error \[INPUT_INVALID\]: --format onnx/);
  // A narrow VGGish is a real checkpoint with the official names but the wrong shapes.
  assert.match(small.stderr, /error \[MODEL_SHAPE_MISMATCH\]: .*small\.ckpt: tensor vggish\/conv1\/weights has shape \[3,3,1,4\], expected \[3,3,1,64\]/);
  assert.equal(existsSync(f('x')), false);
});
