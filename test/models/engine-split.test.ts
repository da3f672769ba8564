import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ModelGraph } from '../../src/models/contracts.js';
import { createOnnxEngine } from '../../src/models/engine/onnx.js';
import { TRUNK_CALL_BYTES } from '../../src/models/engine/onnx-run.js';
import { splitTrunk, TRUNK_LINK } from '../../src/models/engine/split.js';
import { runReference } from '../../src/models/graph/reference.js';
import { vggishGraph } from '../../src/models/vggish/network.js';
import { yamnetGraph } from '../../src/models/yamnet/graph.js';
import { rng } from '../helpers/rng.js';

test('splitTrunk cuts before the first dense layer and keeps every requested output on its side', () => {
  const v = splitTrunk(vggishGraph())!;
  assert.equal(v.link, TRUNK_LINK);
  assert.deepEqual(v.trunk.layers.map((l) => l.op).slice(-2), ['maxPool', 'flatten']);
  assert.equal(v.trunk.layers.at(-1)!.output, TRUNK_LINK);
  assert.deepEqual(v.trunk.outputs, [TRUNK_LINK]);
  const vh = v.head([12288]);
  assert.deepEqual(vh.inputShape, [12288]);
  assert.deepEqual(vh.layers.map((l) => l.op), ['dense', 'dense', 'dense']);
  assert.deepEqual(vh.outputs, vggishGraph().outputs);

  // YAMNet: the pooled embedding is both a requested output and the head's input.
  const y = splitTrunk(yamnetGraph())!;
  assert.equal(y.link, 'embedding');
  assert.deepEqual(y.trunk.outputs, ['embedding']);
  assert.deepEqual(y.head([1024]).outputs, ['scores']);

  const flat: ModelGraph = { inputShape: [4], layers: [{ op: 'dense', weights: 'w', activation: 'none', output: 'y' }], outputs: ['y'] };
  assert.equal(splitTrunk(flat), undefined, 'flat input: nothing to split');
  const noDense: ModelGraph = { inputShape: [4, 4, 1], layers: [{ op: 'globalAvgPool', output: 'p' }], outputs: ['p'] };
  assert.equal(splitTrunk(noDense), undefined);
  const deadHead: ModelGraph = { inputShape: [4, 4, 1], layers: [{ op: 'flatten', output: 'f' }, { op: 'dense', weights: 'w', activation: 'none' }], outputs: ['f'] };
  assert.equal(splitTrunk(deadHead), undefined, 'no requested output after the cut');
});

test('a split onnx engine runs the trunk in micro-batches and equals the reference on every output', async () => {
  const r = rng(7);
  const randn = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);
  const w = new Map([
    ['k', { shape: [3, 3, 2, 6], data: randn(108) }],
    ['kb', { shape: [6], data: randn(6) }],
    ['d', { shape: [6, 5], data: randn(30) }],
    ['db', { shape: [5], data: randn(5) }],
  ]);
  const g: ModelGraph = {
    inputShape: [7, 5, 2],
    layers: [
      { op: 'conv2d', weights: 'k', bias: 'kb', strides: [1, 1], padding: 'same', activation: 'relu', output: 'features' },
      { op: 'globalAvgPool', output: 'pooled' },
      { op: 'dense', weights: 'd', bias: 'db', activation: 'sigmoid', output: 'scores' },
    ],
    outputs: ['scores', 'features', 'pooled'],
  };
  assert.ok(splitTrunk(g));
  const e = await createOnnxEngine(g, w, { threads: 1, memoryArena: true });
  try {
    // Counts around the micro-batch size, including a ragged last chunk. The largest tensor here is
    // the input or 'features' (7*5*6 = 210 values), so one trunk call takes this many examples:
    const perCall = Math.floor(TRUNK_CALL_BYTES / (4 * 210));
    for (const n of [1, perCall - 1, perCall, 2 * perCall + 3]) {
      const x = randn(n * 70);
      const got = await e.run(x, n);
      const ref = runReference(g, w, x, n);
      assert.deepEqual(Object.keys(got), g.outputs, 'outputs in the graph order');
      for (const o of g.outputs) {
        assert.equal(got[o]!.length, ref[o]!.length, o);
        got[o]!.forEach((v, i) => assert.ok(Math.abs(v - ref[o]![i]!) < 1e-5, `${o}[${i}] with ${n}: ${v} vs ${ref[o]![i]}`));
      }
    }
  } finally {
    await e.dispose();
  }
});
