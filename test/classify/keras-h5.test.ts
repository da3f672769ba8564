import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { createHead } from '../../src/classify/head.js';
import { importKerasWeights } from '../../src/classify/keras-h5.js';
import { initParams, type NetSpec, paramSpecs } from '../../src/classify/net.js';
import { isEarshotError } from '../../src/errors.js';
import { Rng } from '../../src/train/rng.js';

// Writes our weights in Keras 2 save_weights layout with Debian python3-h5py: layer groups
// in graph (depth) order as Keras stores them, weightless layers included, datasets named
// '<layer>/<weight>:0' under each group, float32.
const PY = `
import sys, json, h5py, numpy as np
d = json.load(sys.stdin)
with h5py.File(d['path'], 'w') as f:
    f.attrs['layer_names'] = [n.encode() for n in d['order']]
    f.attrs['backend'] = b'tensorflow'
    f.attrs['keras_version'] = b'2.2.4'
    for name in d['order']:
        g = f.create_group(name)
        ws = d['layers'].get(name, [])
        g.attrs['weight_names'] = [('%s/%s:0' % (name, w['name'])).encode() for w in ws]
        for w in ws:
            g.create_dataset('%s/%s:0' % (name, w['name']), data=np.array(w['data'], dtype=np.float32).reshape(w['shape']))
`;

const KERAS_FIELD: Record<string, string> = { kernel: 'kernel', bias: 'bias', gamma: 'gamma', beta: 'beta', movingMean: 'moving_mean', movingVariance: 'moving_variance' };

function kerasNames(spec: NetSpec): Map<string, string> {
  // Our layer -> Keras default name, by creation order as in keras/main.py.
  const m = new Map<string, string>();
  let dense = 0;
  let bn = 0;
  for (const p of paramSpecs(spec)) {
    const layer = p.name.split('.')[0]!;
    if (m.has(layer)) continue;
    m.set(layer, layer.startsWith('bn') ? `batch_normalization_${++bn}` : `dense_${++dense}`);
  }
  return m;
}

const GRAPH_ORDER: Record<string, string[]> = {
  decision_level_multi_attention: [
    'input_1',
    'dense_1',
    'batch_normalization_1',
    'activation_1',
    'dropout_1',
    'dense_2',
    'batch_normalization_2',
    'activation_2',
    'dropout_2',
    'dense_3',
    'batch_normalization_3',
    'activation_3',
    'dropout_3',
    'dense_6',
    'dense_7',
    'dense_4',
    'dense_5',
    'lambda_2',
    'lambda_1',
    'concatenate_1',
    'dense_8',
    'activation_4',
  ],
  feature_level_attention: [
    'input_1',
    'dense_1',
    'batch_normalization_1',
    'activation_1',
    'dropout_1',
    'dense_2',
    'batch_normalization_2',
    'activation_2',
    'dropout_2',
    'dense_3',
    'batch_normalization_3',
    'activation_3',
    'dropout_3',
    'dense_5',
    'dense_4',
    'lambda_1',
    'batch_normalization_4',
    'activation_4',
    'dropout_4',
    'dense_6',
  ],
};

function writeKeras(path: string, spec: NetSpec, params: Map<string, Float32Array>): void {
  const names = kerasNames(spec);
  const layers: Record<string, Array<{ name: string; shape: readonly number[]; data: number[] }>> = {};
  for (const p of paramSpecs(spec)) {
    const [layer, field] = p.name.split('.') as [string, string];
    (layers[names.get(layer)!] ??= []).push({ name: KERAS_FIELD[field]!, shape: p.shape, data: Array.from(params.get(p.name)!) });
  }
  const r = spawnSync('/usr/bin/python3', ['-c', PY], { input: JSON.stringify({ path, order: GRAPH_ORDER[spec.modelType], layers }), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

for (const modelType of ['decision_level_multi_attention', 'feature_level_attention'] as const)
  test(`imports a Keras save_weights h5 (${modelType}) and predicts identically`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-h5-'));
    try {
      const spec: NetSpec = { modelType, timeSteps: 10, inputDim: 128, hidden: 32, classes: 527 };
      const rng = new Rng(21);
      const params = initParams(spec, () => rng.next());
      for (const [k, v] of params) if (!k.endsWith('kernel')) v.forEach((_, i, a) => (a[i] = k.endsWith('Variance') ? 0.5 + rng.next() : rng.next() - 0.5));
      const path = join(dir, 'final_weights.h5');
      writeKeras(path, spec, params);
      const imported = await importKerasWeights(path, spec);
      for (const [k, v] of params) assert.deepEqual(imported.get(k), v, `tensor ${k}`);
      const x = new Float32Array(3 * 10 * 128).map(() => rng.next() * 2 - 1);
      const a = await createHead(spec, params).predict(x, 3);
      const b = await createHead(spec, imported).predict(x, 3);
      assert.deepEqual(b, a);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

test('Keras import errors name the file and tensor', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-h5-'));
  try {
    const spec: NetSpec = { modelType: 'decision_level_multi_attention', timeSteps: 10, inputDim: 128, hidden: 32, classes: 527 };
    const rng = new Rng(1);
    const path = join(dir, 'w.h5');
    writeKeras(
      path,
      spec,
      initParams(spec, () => rng.next()),
    );
    await assert.rejects(importKerasWeights(path, { ...spec, hidden: 64 }), (e) => isEarshotError(e, 'MODEL_SHAPE_MISMATCH') && e.message.includes('dense_1/kernel') && e.message.includes(path));
    await assert.rejects(importKerasWeights(path, { ...spec, modelType: 'decision_level_single_attention' }), (e) => isEarshotError(e, 'MODEL_SHAPE_MISMATCH') && /8 Dense/.test(e.message));
    writeFileSync(join(dir, 'bad.h5'), 'not hdf5');
    await assert.rejects(importKerasWeights(join(dir, 'bad.h5'), spec), (e) => isEarshotError(e, 'MODEL_INVALID') && e.message.includes('bad.h5'));
    await assert.rejects(importKerasWeights(join(dir, 'missing.h5'), spec), (e) => isEarshotError(e, 'MODEL_NOT_FOUND'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
