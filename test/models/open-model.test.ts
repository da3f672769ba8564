import assert from 'node:assert/strict';
import { readdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { engineSchema } from '../../src/config/sections/engine.js';
import { isEarshotError } from '../../src/errors.js';
import type { ModelGraph, Weights } from '../../src/models/contracts.js';
import { createEngine, runBatched } from '../../src/models/engine/index.js';
import { runReference } from '../../src/models/graph/reference.js';
import { writeModelDir } from '../../src/models/modeldir.js';
import { logMelFrontend, type ModelSpec,openModel } from '../../src/models/open.js';
import { maxAbsDiff } from '../helpers/numeric.js';
import { rng } from '../helpers/rng.js';
import { tempDir } from '../helpers/tmp.js';

const graph: ModelGraph = {
  inputShape: [4, 3, 1],
  layers: [
    { op: 'conv2d', weights: 'k', strides: [1, 1], padding: 'same', activation: 'relu', output: 'features' },
    { op: 'flatten' },
    { op: 'dense', weights: 'd', bias: 'b', activation: 'sigmoid', output: 'scores' },
  ],
  outputs: ['scores', 'features'],
};

function weights(seed: number): Weights {
  const r = rng(seed);
  const v = (n: number) => Float32Array.from({ length: n }, () => r() * 2 - 1);
  return new Map([
    ['k', { shape: [3, 3, 1, 2], data: v(18) }],
    ['d', { shape: [24, 5], data: v(120) }],
    ['b', { shape: [5], data: v(5) }],
  ]);
}

const onnx = engineSchema.parse({ kind: 'onnx', threads: 1 });

function modelDir(frontend?: Record<string, number>): string {
  const dir = join(tempDir('open-model'), 'm');
  const fields = { name: 'tiny', architecture: 'tiny', version: '1', input: { name: 'input', shape: [-1, 4, 3, 1] }, outputs: [{ name: 'scores', shape: [-1, 5] }], ...(frontend ? { frontend } : {}) };
  writeModelDir(dir, fields, weights(7), [{ index: 0, id: '/m/a', name: 'A' }]);
  return dir;
}

/** A spec for the tiny test architecture; `reads` counts how often its weights were read and checked. */
function tinySpec(dir: string) {
  const spec = { reads: 0, architecture: 'tiny', graph: () => graph, frontend: logMelFrontend(dir), checkWeights: () => void spec.reads++ } satisfies ModelSpec<unknown> & { reads: number };
  return spec;
}

test('openModel: validated frontend overrides, labels, and a compiled cache keyed by the weights stamp', async () => {
  const dir = modelDir({ logOffset: 0.001, patchHopSeconds: 0.48 });
  const spec = tinySpec(dir);
  const t = Math.floor(Date.now() / 1000) - 60;
  utimesSync(join(dir, 'weights.bin'), t, t);
  const first = await openModel(dir, onnx, spec);
  await first.engine.dispose();
  assert.deepEqual(first.frontend, { logOffset: 0.001, patchHopSeconds: 0.48 });
  assert.deepEqual(first.labels.map((l) => l.name), ['A']);
  assert.equal(spec.reads, 1, 'first start reads and checks the weights');
  const sidecar = readdirSync(join(dir, 'cache')).filter((f) => f.endsWith('.json'));
  assert.ok(sidecar.length >= 1);
  assert.match((JSON.parse(readFileSync(join(dir, 'cache', sidecar[0]!), 'utf8')) as { stamp: string }).stamp, /^\d+:\d+:\d+$/);
  const second = await openModel(dir, onnx, spec);
  await second.engine.dispose();
  assert.equal(spec.reads, 1, 'an unchanged weights file is served from the cache');
  utimesSync(join(dir, 'weights.bin'), t + 5, t + 5);
  const third = await openModel(dir, onnx, spec);
  await third.engine.dispose();
  assert.equal(spec.reads, 2, 'a new stamp re-reads the weights');
});

test('openModel: bad frontend overrides and another architecture are MODEL_INVALID naming the problem', async () => {
  const bad = modelDir({ melBands: -3 });
  await assert.rejects(openModel(bad, onnx, tinySpec(bad)), (e) => isEarshotError(e, 'MODEL_INVALID') && /frontend: melBands/.test(e.message));
  const unknown = modelDir({ melBandz: 64 });
  await assert.rejects(openModel(unknown, onnx, tinySpec(unknown)), (e) => isEarshotError(e, 'MODEL_INVALID') && /melBandz/.test(e.message));
  const nyquist = modelDir({ melMaxHz: 9000 });
  await assert.rejects(openModel(nyquist, onnx, tinySpec(nyquist)), (e) => isEarshotError(e, 'MODEL_INVALID') && /Nyquist/.test(e.message));
  const other = modelDir();
  await assert.rejects(openModel(other, onnx, { ...tinySpec(other), architecture: 'yamnet' }), (e) => isEarshotError(e, 'MODEL_INVALID') && /holds a 'tiny' model, not yamnet/.test(e.message));
});

test('runBatched gives what one call gives, for every output, at any batch size', async () => {
  const w = weights(3);
  const engine = await createEngine(graph, w, { kind: 'onnx', tfjsBackend: 'auto', threads: 1 });
  try {
    const r = rng(11);
    const count = 7;
    const input = Float32Array.from({ length: count * 12 }, () => r());
    const ref = runReference(graph, w, input, count);
    for (const batch of [1, 3, 7, 50]) {
      const got = await runBatched(engine, input, count, batch);
      for (const o of graph.outputs) assert.ok(maxAbsDiff(got[o]!, ref[o]!) < 1e-5, `${o} at batch ${batch}`);
    }
    await assert.rejects(runBatched(engine, input.subarray(1), count, 3), (e) => isEarshotError(e, 'INPUT_INVALID'));
  } finally {
    await engine.dispose();
  }
});
