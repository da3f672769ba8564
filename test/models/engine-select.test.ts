import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import type { ModelGraph } from '../../src/models/contracts.js';
import { availableEngines, createEngine } from '../../src/models/engine/index.js';
import { createOnnxEngine } from '../../src/models/engine/onnx.js';
import { digestWeights } from '../../src/models/engine/onnx-cache.js';
import { runReference } from '../../src/models/graph/reference.js';

const graph: ModelGraph = {
  inputShape: [6, 5, 2],
  layers: [
    { op: 'conv2d', weights: 'k', bias: 'b', strides: [2, 2], padding: 'same', activation: 'relu' },
    { op: 'flatten' },
    { op: 'dense', weights: 'f', activation: 'none', output: 'y' },
  ],
  outputs: ['y'],
};

function weights(seed: number) {
  const v = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 1.7));
  return new Map([
    ['k', { shape: [3, 3, 2, 4], data: v(72) }],
    ['b', { shape: [4], data: v(4) }],
    ['f', { shape: [3 * 3 * 4, 3], data: v(108) }],
  ]);
}

const input = Float32Array.from({ length: 2 * 60 }, (_, i) => Math.cos(i * 0.37));

test('availableEngines: onnx and tfjs wasm/cpu present; tfjs-node reported missing with a reason', async () => {
  const av = await availableEngines();
  const find = (kind: string, backend: string) => av.find((a) => a.kind === kind && a.backend === backend)!;
  assert.equal(find('onnx', 'cpu').available, true);
  assert.equal(find('tfjs', 'wasm').available, true);
  assert.equal(find('tfjs', 'cpu').available, true);
  const tfn = find('tfjs', 'tensorflow');
  // tfjs-node(-gpu) are optionalDependencies that cannot install in this environment.
  assert.equal(tfn.available, false);
  assert.match(tfn.reason!, /tfjs-node-gpu: not installed.*tfjs-node: not installed/);
});

test('createEngine: auto picks onnx; tfjs auto falls back past the missing tensorflow backend to wasm', async () => {
  const w = weights(1);
  const ref = runReference(graph, w, input, 2).y!;
  const auto = await createEngine(graph, w, { kind: 'auto', tfjsBackend: 'auto', threads: 1 });
  const tfjs = await createEngine(graph, w, { kind: 'tfjs', tfjsBackend: 'auto', threads: 1 });
  try {
    assert.equal(`${auto.kind}/${auto.backend}`, 'onnx/cpu');
    assert.equal(`${tfjs.kind}/${tfjs.backend}`, 'tfjs/wasm');
    for (const e of [auto, tfjs]) {
      const y = (await e.run(input, 2)).y!;
      y.forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) < 1e-4));
    }
  } finally {
    await auto.dispose();
    await tfjs.dispose();
  }
});

test('onnx cache: compiled once per (graph, weights), reused on the next start, new entry when weights change', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-onnx-cache-'));
  try {
    const w1 = weights(1);
    const e1 = await createOnnxEngine(graph, w1, { threads: 1, cacheDir: dir });
    const y1 = (await e1.run(input, 2)).y!;
    await e1.dispose();
    const files = readdirSync(dir).sort();
    // conv trunk and dense head are compiled separately (split.ts): two graphs per weights
    assert.equal(files.filter((f) => f.endsWith('.onnx')).length, 2);
    assert.equal(files.filter((f) => f.endsWith('.onnx.data')).length, 2);
    const mtimes = files.map((f) => statSync(join(dir, f)).mtimeMs);

    const e2 = await createOnnxEngine(graph, w1, { threads: 1, cacheDir: dir });
    assert.deepEqual([...(await e2.run(input, 2)).y!], [...y1]);
    await e2.dispose();
    assert.deepEqual(readdirSync(dir).sort(), files, 'no new files on a cache hit');
    assert.deepEqual(files.map((f) => statSync(join(dir, f)).mtimeMs), mtimes, 'cached files not rewritten');

    const w2 = weights(2);
    const e3 = await createOnnxEngine(graph, w2, { threads: 1, cacheDir: dir });
    const y3 = (await e3.run(input, 2)).y!;
    await e3.dispose();
    assert.equal(readdirSync(dir).filter((f) => f.endsWith('.onnx')).length, 4);
    const ref2 = runReference(graph, w2, input, 2).y!;
    y3.forEach((v, i) => assert.ok(Math.abs(v - ref2[i]!) < 1e-4));
    assert.notEqual(digestWeights(graph, w1), digestWeights(graph, w2));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tfjs engines on different backends interleave correctly (one global tfjs backend, re-selected per run)', async () => {
  const w = weights(3);
  const ref = runReference(graph, w, input, 2).y!;
  const wasm = await createEngine(graph, w, { kind: 'tfjs', tfjsBackend: 'wasm', threads: 1 });
  const cpu = await createEngine(graph, w, { kind: 'tfjs', tfjsBackend: 'cpu', threads: 1 });
  try {
    const runs = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? cpu : wasm).run(input, 2)));
    for (const r of runs) r.y!.forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) < 1e-4));
  } finally {
    await wasm.dispose();
    await cpu.dispose();
  }
  const tf = await import('@tensorflow/tfjs-core');
  assert.equal(tf.memory().numTensors, 0, 'disposed engines leave no tensors behind');
});

test('engine.memoryArena: the config flag reaches the onnx engine, whose reused buffers never leak one call into the next', async () => {
  const { engineSchema } = await import('../../src/config/sections/engine.js');
  const { engineOptions } = await import('../../src/models/engine/index.js');
  assert.equal(engineOptions(engineSchema.parse({})).memoryArena, true, 'on by default');
  assert.equal(engineOptions(engineSchema.parse({ memoryArena: false })).memoryArena, false);
  const opts = engineOptions(engineSchema.parse({ kind: 'onnx', threads: 1 }));
  const w = weights(4);
  const e = await createEngine(graph, w, opts);
  try {
    // Batches that grow, shrink and grow again with different data: a stale or mis-sized arena buffer shows as a wrong value.
    for (const n of [3, 1, 5, 2]) {
      const x = Float32Array.from({ length: n * 60 }, (_, i) => Math.cos(i * 0.37 + n));
      const ref = runReference(graph, w, x, n).y!;
      const y = (await e.run(x, n)).y!;
      assert.equal(y.length, ref.length);
      y.forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) < 1e-4, `batch ${n} value ${i}: ${v} vs ${ref[i]}`));
    }
  } finally {
    await e.dispose();
  }
});
