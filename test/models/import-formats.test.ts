import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import type { Weights } from '../../src/models/contracts.js';
import { runReference } from '../../src/models/graph/reference.js';
import { writeTfjs } from '../../src/models/import/tfjs.js';
import { detectFormat, readVggishSource } from '../../src/models/import/vggish.js';
import { writeModelDir } from '../../src/models/modeldir.js';
import { vggishGraph } from '../../src/models/vggish/network.js';
import { writeCheckpointV1 } from '../helpers/checkpoints.js';
import { writeCheckpointV2 } from '../helpers/checkpoints.js';
import { asRawTensors, miniVggishTable, seededWeights } from '../helpers/import-fixtures.js';
import { projectRoot } from '../helpers/shared.js';

// One set of (narrow) VGGish weights written as V1 and V2 checkpoints, a torchvggish
// .pth (real torch.save) and TF.js shards: every reader must return identical tensors.

const table = miniVggishTable();
const w = seededWeights(table, 77);
let dir = '';
const f = (n: string): string => join(dir, n);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-formats-'));
  const tensors = asRawTensors(w);
  writeCheckpointV1(f('v1.ckpt'), tensors);
  writeCheckpointV2(f('v2.ckpt'), tensors);
  writeTfjs(f('tfjs'), tensors, 3000);
  writeModelDir(f('tf'), { name: 't', architecture: 'vggish', version: '0', input: { name: 'patches', shape: [96, 64, 1] }, outputs: [] }, w);
  execFileSync('/usr/bin/python3', [join(projectRoot, 'test/fixtures/make_pth.py'), f('tf'), f('torchvggish.pth')], { stdio: ['ignore', 'ignore', 'inherit'] });
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('formats are detected from the path and magic bytes', () => {
  assert.equal(detectFormat(f('v1.ckpt')), 'ckpt');
  assert.equal(detectFormat(f('v2.ckpt')), 'ckpt');
  assert.equal(detectFormat(f('v2.ckpt.index')), 'ckpt');
  assert.equal(detectFormat(f('v2.ckpt.data-00000-of-00001')), 'ckpt');
  assert.equal(detectFormat(f('torchvggish.pth')), 'pth');
  assert.equal(detectFormat(f('tfjs')), 'tfjs');
  assert.equal(detectFormat(f('tfjs/model.json')), 'tfjs');
  writeFileSync(f('notes.txt'), 'hello');
  assert.throws(() => detectFormat(f('notes.txt')), (e) => isEarshotError(e, 'MODEL_INVALID') && /cannot tell the format of .*notes\.txt/.test(e.message));
  assert.throws(() => detectFormat(f('nope.ckpt')), (e) => isEarshotError(e, 'MODEL_NOT_FOUND') && /nope\.ckpt/.test(e.message));
  mkdirSync(f('empty'));
  assert.throws(() => detectFormat(f('empty')), (e) => isEarshotError(e, 'MODEL_INVALID') && /without model\.json/.test(e.message));
});

test('V1, V2, torchvggish .pth and TF.js give identical weights, hence identical network outputs', () => {
  const got = ['v1.ckpt', 'v2.ckpt', 'torchvggish.pth', 'tfjs/model.json'].map((p) => readVggishSource(f(p), { table }));
  assert.deepEqual(got.map((g) => g.format), ['tf-checkpoint-v1', 'tf-checkpoint-v2', 'torch-pth', 'tfjs']);
  for (const g of got) {
    assert.deepEqual([...g.weights.keys()], table.map(([n]) => n));
    for (const [name, t] of w) assert.deepEqual(g.weights.get(name)!.data, t.data, `${g.format} ${name}`);
  }
  // Same weights through the plain-TS reference network: bit-identical outputs.
  const graph = vggishGraph();
  const input = Float32Array.from({ length: 2 * 96 * 64 }, (_, i) => Math.sin(i * 0.37));
  const outs = got.map((g) => runReference(graph, g.weights as Weights, input, 2)[graph.outputs[0]!]!);
  for (const o of outs.slice(1)) assert.deepEqual(o, outs[0]);
  assert.equal(outs[0]!.length, 2 * 8);
});

test('a truncated V1 checkpoint is rejected by the footer check', () => {
  const full = readFileSync(f('v1.ckpt'));
  writeFileSync(f('cut.ckpt'), full.subarray(0, full.length - 100));
  assert.throws(() => readVggishSource(f('cut.ckpt'), { table, format: 'ckpt' }), (e) => isEarshotError(e, 'MODEL_INVALID') && /cut\.ckpt: not a valid TensorFlow table \(bad magic number/.test(e.message));
});
