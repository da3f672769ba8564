import assert from 'node:assert/strict';
import { test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import type { Activation, EmbeddingEngine, Layer, ModelGraph, Weights } from '../../src/models/contracts.js';
import { createOnnxEngine } from '../../src/models/engine/onnx.js';
import { createTfjsEngine } from '../../src/models/engine/tfjs.js';
import { runReference } from '../../src/models/graph/reference.js';
import { inferShapes, padAlong } from '../../src/models/graph/shapes.js';
import { rng } from '../helpers/rng.js';

// Every IR op on every engine against the plain-loop reference, on small random graphs.

function randn(r: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}

type W = Map<string, { shape: number[]; data: Float32Array }>;
function addW(w: W, r: () => number, name: string, shape: number[], scale = 0.5): string {
  w.set(name, { shape, data: randn(r, shape.reduce((a, b) => a * b, 1), scale) });
  return name;
}

const ENGINES: Array<[string, (g: ModelGraph, w: Weights) => Promise<EmbeddingEngine>]> = [
  ['onnx', (g, w) => createOnnxEngine(g, w, { threads: 1 })],
  ['tfjs/wasm', (g, w) => createTfjsEngine(g, w, { backend: 'wasm', threads: 0 })],
  ['tfjs/cpu', (g, w) => createTfjsEngine(g, w, { backend: 'cpu', threads: 0 })],
];

function relDiff(a: Float32Array, ref: Float32Array): number {
  assert.equal(a.length, ref.length);
  let d = 0;
  let m = 1e-6;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - ref[i]!));
    m = Math.max(m, Math.abs(ref[i]!));
  }
  return d / m;
}

async function checkAll(name: string, graph: ModelGraph, w: Weights, input: Float32Array, count: number): Promise<void> {
  const ref = runReference(graph, w, input, count);
  for (const [ename, make] of ENGINES) {
    const e = await make(graph, w);
    try {
      const out = await e.run(input, count);
      assert.deepEqual(Object.keys(out).sort(), [...graph.outputs].sort(), `${name} on ${ename}: outputs`);
      for (const o of graph.outputs) {
        const r = relDiff(out[o]!, ref[o]!);
        assert.ok(r < 1e-5, `${name} on ${ename}: output ${o} differs from reference by ${r} (relative)`);
      }
    } finally {
      await e.dispose();
    }
  }
}

test('TF same padding: asymmetric (extra at bottom/right) for even inputs with stride 2', () => {
  assert.deepEqual(padAlong(7, 3, 2, 'same'), { out: 4, before: 1, after: 1 });
  assert.deepEqual(padAlong(6, 3, 2, 'same'), { out: 3, before: 0, after: 1 });
  assert.deepEqual(padAlong(96, 2, 2, 'same'), { out: 48, before: 0, after: 0 });
  assert.deepEqual(padAlong(5, 3, 1, 'valid'), { out: 3, before: 0, after: 0 });
});

test('reference conv2d/maxPool match hand-computed values', () => {
  // 1x3x3x1 input 1..9, 2x2 all-ones kernel, stride 2 'same': pads (0,1) -> windows sum 1+2+4+5, 3+6, 7+8, 9.
  const w = new Map([['k', { shape: [2, 2, 1, 1], data: Float32Array.from([1, 1, 1, 1]) }], ['b', { shape: [1], data: Float32Array.of(0.5) }]]);
  const g: ModelGraph = { inputShape: [3, 3, 1], layers: [{ op: 'conv2d', weights: 'k', bias: 'b', strides: [2, 2], padding: 'same', activation: 'none', output: 'y' }], outputs: ['y'] };
  const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...runReference(g, w, x, 1).y!], [12.5, 9.5, 15.5, 9.5]);
  const p: ModelGraph = { inputShape: [3, 3, 1], layers: [{ op: 'maxPool', size: [2, 2], strides: [2, 2], padding: 'same', output: 'y' }], outputs: ['y'] };
  assert.deepEqual([...runReference(p, w, Float32Array.from([-1, -2, -3, -4, -5, -6, -7, -8, -9]), 1).y!], [-1, -3, -7, -9]);
});

for (const act of ['none', 'relu', 'relu6', 'sigmoid'] as Activation[]) {
  test(`conv2d (strides 1 and 2, same/valid, odd sizes) + ${act} on every engine`, async () => {
    const r = rng(11);
    const w: W = new Map();
    const layers: Layer[] = [
      { op: 'conv2d', weights: addW(w, r, 'c1', [3, 3, 3, 5], 1.5), bias: addW(w, r, 'b1', [5]), strides: [2, 2], padding: 'same', activation: act, output: 'a' },
      { op: 'conv2d', weights: addW(w, r, 'c2', [3, 2, 5, 4]), strides: [1, 2], padding: 'valid', activation: act },
      { op: 'conv2d', weights: addW(w, r, 'c3', [1, 1, 4, 3]), bias: addW(w, r, 'b3', [3]), strides: [1, 1], padding: 'same', activation: act, output: 'c' },
    ];
    const g: ModelGraph = { inputShape: [9, 7, 3], layers, outputs: ['c', 'a'] };
    await checkAll(`conv ${act}`, g, w, randn(r, 2 * 9 * 7 * 3, 2), 2);
  });
}

test('depthwiseConv2d (multiplier 1 and 2, stride 2 same on odd/even sizes) on every engine', async () => {
  const r = rng(22);
  const w: W = new Map();
  const layers: Layer[] = [
    { op: 'depthwiseConv2d', weights: addW(w, r, 'd1', [3, 3, 4, 1]), bias: addW(w, r, 'db1', [4]), strides: [2, 2], padding: 'same', activation: 'relu6', output: 'd1' },
    { op: 'depthwiseConv2d', weights: addW(w, r, 'd2', [3, 3, 4, 2]), bias: addW(w, r, 'db2', [8]), strides: [2, 2], padding: 'same', activation: 'relu', output: 'd2' },
    { op: 'depthwiseConv2d', weights: addW(w, r, 'd3', [2, 2, 8, 1]), strides: [1, 1], padding: 'valid', activation: 'none', output: 'd3' },
  ];
  const g: ModelGraph = { inputShape: [11, 8, 4], layers, outputs: ['d1', 'd2', 'd3'] };
  assert.deepEqual(inferShapes(g, w).map((i) => i.outputShape), [[6, 4, 4], [3, 2, 8], [2, 1, 8]]);
  await checkAll('depthwise', g, w, randn(r, 3 * 11 * 8 * 4, 2), 3);
});

test('maxPool (3x3 stride 2 same on odd sizes, 2x2 valid), flatten and dense on every engine', async () => {
  const r = rng(33);
  const w: W = new Map();
  const layers: Layer[] = [
    { op: 'maxPool', size: [3, 3], strides: [2, 2], padding: 'same', output: 'p1' },
    { op: 'maxPool', size: [2, 2], strides: [1, 2], padding: 'valid', output: 'p2' },
    { op: 'flatten', output: 'flat' },
    { op: 'dense', weights: addW(w, r, 'f1', [4 * 2 * 3, 7]), bias: addW(w, r, 'fb1', [7]), activation: 'relu6' },
    { op: 'dense', weights: addW(w, r, 'f2', [7, 5]), activation: 'sigmoid', output: 'y' },
  ];
  const g: ModelGraph = { inputShape: [9, 7, 3], layers, outputs: ['y', 'p1', 'p2', 'flat'] };
  assert.deepEqual(inferShapes(g, w).map((i) => i.outputShape), [[5, 4, 3], [4, 2, 3], [24], [7], [5]]);
  await checkAll('pool/flatten/dense', g, w, randn(r, 2 * 9 * 7 * 3, 3), 2);
});

test('MobileNet-style block: conv s2, depthwise s2, globalAvgPool, dense sigmoid, batch 1 and 4', async () => {
  const r = rng(44);
  const w: W = new Map();
  const layers: Layer[] = [
    { op: 'conv2d', weights: addW(w, r, 'c', [3, 3, 1, 6]), bias: addW(w, r, 'cb', [6]), strides: [2, 2], padding: 'same', activation: 'relu6' },
    { op: 'depthwiseConv2d', weights: addW(w, r, 'd', [3, 3, 6, 1]), bias: addW(w, r, 'db', [6]), strides: [2, 2], padding: 'same', activation: 'relu6' },
    { op: 'conv2d', weights: addW(w, r, 'pw', [1, 1, 6, 8]), bias: addW(w, r, 'pwb', [8]), strides: [1, 1], padding: 'same', activation: 'relu' },
    { op: 'globalAvgPool', output: 'emb' },
    { op: 'flatten' },
    { op: 'dense', weights: addW(w, r, 'fc', [8, 5]), bias: addW(w, r, 'fcb', [5]), activation: 'sigmoid', output: 'scores' },
  ];
  const g: ModelGraph = { inputShape: [15, 10, 1], layers, outputs: ['scores', 'emb'] };
  await checkAll('mobilenet batch 1', g, w, randn(r, 15 * 10, 3), 1);
  await checkAll('mobilenet batch 4', g, w, randn(r, 4 * 15 * 10, 3), 4);
});

test('engines reject bad graphs, bad inputs and use after dispose with named errors', async () => {
  const r = rng(55);
  const w: W = new Map();
  addW(w, r, 'k', [3, 3, 2, 4]);
  const g: ModelGraph = { inputShape: [5, 5, 3], layers: [{ op: 'conv2d', weights: 'k', strides: [1, 1], padding: 'same', activation: 'none', output: 'y' }], outputs: ['y'] };
  for (const [ename, make] of ENGINES) {
    await assert.rejects(make(g, w), (e) => isEarshotError(e, 'MODEL_SHAPE_MISMATCH') && /'k'/.test(e.message), ename);
    const missing: ModelGraph = { ...g, inputShape: [5, 5, 2], layers: [{ op: 'conv2d', weights: 'k', bias: 'nope', strides: [1, 1], padding: 'same', activation: 'none', output: 'y' }] };
    await assert.rejects(make(missing, w), (e) => isEarshotError(e, 'MODEL_INVALID') && /'nope'/.test(e.message), ename);
    const ok: ModelGraph = { ...g, inputShape: [5, 5, 2] };
    const e = await make(ok, w);
    await assert.rejects(e.run(new Float32Array(49), 1), (err) => isEarshotError(err, 'INPUT_INVALID'), ename);
    assert.deepEqual((await e.run(new Float32Array(0), 0)).y!.length, 0);
    await e.dispose();
    await assert.rejects(e.run(new Float32Array(50), 1), (err) => isEarshotError(err, 'ENGINE_UNAVAILABLE'), ename);
  }
  assert.throws(() => runReference({ inputShape: [4], layers: [{ op: 'maxPool', size: [2, 2], strides: [2, 2], padding: 'same', output: 'y' }], outputs: ['y'] }, w, new Float32Array(4), 1), (e) => isEarshotError(e, 'MODEL_INVALID'));
  assert.throws(() => runReference({ inputShape: [4], layers: [{ op: 'flatten', output: 'y' }], outputs: ['z'] }, w, new Float32Array(4), 1), (e) => isEarshotError(e, 'MODEL_INVALID') && /'z'/.test(e.message));
});

test('flat [features] input: dense-only MLP with every activation on every engine', async () => {
  const r = rng(66);
  const w: W = new Map();
  const layers: Layer[] = (['relu', 'relu6', 'sigmoid', 'none'] as Activation[]).map((activation, i) => ({
    op: 'dense' as const,
    weights: addW(w, r, `w${i}`, [i === 0 ? 10 : 6, 6], 2),
    bias: addW(w, r, `b${i}`, [6]),
    activation,
    output: `h${i}`,
  }));
  const g: ModelGraph = { inputShape: [10], layers, outputs: ['h3', 'h0', 'h1', 'h2'] };
  await checkAll('mlp', g, w, randn(r, 5 * 10, 3), 5);
});

test('onnx: dense layers above the block size run as column-block Gemms + Concat with the same results', async () => {
  const { compileOnnx, columnBlock } = await import('../../src/models/engine/onnx-graph.js');
  const { writeOnnxFiles } = await import('../../src/models/engine/onnx-cache.js');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const ort = await import('onnxruntime-node');
  const r = rng(41);
  const w: W = new Map();
  // 7 output columns do not divide into the blocks evenly; relu and none both run per block.
  const g: ModelGraph = {
    inputShape: [5],
    layers: [
      { op: 'dense', weights: addW(w, r, 'a', [5, 7]), bias: addW(w, r, 'ab', [7]), activation: 'relu' },
      { op: 'dense', weights: addW(w, r, 'b', [7, 3]), activation: 'none', output: 'y' },
    ],
    outputs: ['y'],
  };
  assert.deepEqual([...columnBlock(Float32Array.from([1, 2, 3, 4, 5, 6]), 2, 3, 1, 3)], [2, 3, 5, 6]);
  const blockBytes = 3 * 5 * 4; // 'a' (140 bytes) -> 3 blocks of at most 3 columns; 'b' (84 bytes) -> 2
  const ops = compileOnnx(g, w, { denseBlockBytes: blockBytes }).model.graph.node.map((n) => n.opType);
  assert.equal(ops.filter((o) => o === 'Gemm').length, 5);
  assert.equal(ops.filter((o) => o === 'Concat').length, 2);
  assert.equal(compileOnnx(g, w).model.graph.node.filter((n) => n.opType === 'Gemm').length, 2, 'small weights stay one Gemm by default');

  const dir = mkdtempSync(join(tmpdir(), 'earshot-dense-blocks-'));
  try {
    const session = await ort.InferenceSession.create(writeOnnxFiles(g, w, dir, 'blocks', { denseBlockBytes: blockBytes }));
    const x = randn(r, 4 * 5);
    const y = (await session.run({ input: new ort.Tensor('float32', x, [4, 5]) })).y!.data as Float32Array;
    await session.release();
    assert.ok(relDiff(y, runReference(g, w, x, 4).y!) < 1e-5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('onnx: a last weight ending exactly on the data file alignment keeps its last value', async () => {
  // Regression: padding the external data file used to write a zero byte at its aligned end,
  // which is the last tensor's own last byte when that tensor ends on a 4096-byte boundary
  // (here a [1024] bias: 4096 bytes). Its last output came out wrong.
  const r = rng(43);
  const w: W = new Map();
  const g: ModelGraph = { inputShape: [3], layers: [{ op: 'dense', weights: addW(w, r, 'w', [3, 1024]), bias: addW(w, r, 'b', [1024]), activation: 'none', output: 'y' }], outputs: ['y'] };
  const x = randn(r, 2 * 3);
  const e = await createOnnxEngine(g, w, { threads: 1 });
  try {
    const y = (await e.run(x, 2)).y!;
    const ref = runReference(g, w, x, 2).y!;
    for (const i of [1023, 2047]) assert.ok(Math.abs(y[i]! - ref[i]!) < 1e-5, `output ${i}: ${y[i]} vs ${ref[i]}`);
    assert.ok(relDiff(y, ref) < 1e-5);
  } finally {
    await e.dispose();
  }
});

test('EfficientAT ops: explicit PyTorch pads, hardswish, squeezeExcite and residual add on every engine', async () => {
  const r = rng(16);
  const w: W = new Map();
  const layers: Layer[] = [
    // Symmetric pads with stride 2 on odd and even sizes (PyTorch's alignment, not TF's 'same').
    { op: 'conv2d', weights: addW(w, r, 'c1', [3, 3, 1, 6]), bias: addW(w, r, 'c1b', [6]), strides: [2, 2], padding: 'valid', pads: [1, 1, 1, 1], activation: 'hardswish', output: 'stem' },
    { op: 'conv2d', weights: addW(w, r, 'e', [1, 1, 6, 12]), bias: addW(w, r, 'eb', [12]), strides: [1, 1], padding: 'valid', pads: [0, 0, 0, 0], activation: 'relu' },
    { op: 'depthwiseConv2d', weights: addW(w, r, 'd', [5, 5, 12, 1]), bias: addW(w, r, 'db', [12]), strides: [1, 1], padding: 'valid', pads: [2, 2, 2, 2], activation: 'hardswish' },
    { op: 'squeezeExcite', squeeze: addW(w, r, 's1', [12, 8]), squeezeBias: addW(w, r, 's1b', [8]), excite: addW(w, r, 's2', [8, 12]), exciteBias: addW(w, r, 's2b', [12]) },
    { op: 'conv2d', weights: addW(w, r, 'p', [1, 1, 12, 6]), bias: addW(w, r, 'pb', [6]), strides: [1, 1], padding: 'valid', activation: 'none' },
    { op: 'add', from: 'stem', output: 'block' },
    // Asymmetric explicit pads (TF.js pads first, then 'valid').
    { op: 'depthwiseConv2d', weights: addW(w, r, 'd2', [3, 3, 6, 1]), strides: [2, 2], padding: 'valid', pads: [0, 1, 1, 0], activation: 'relu' },
    { op: 'globalAvgPool', output: 'features' },
    { op: 'dense', weights: addW(w, r, 'h', [6, 10]), bias: addW(w, r, 'hb', [10]), activation: 'hardswish' },
    { op: 'dense', weights: addW(w, r, 'o', [10, 4]), activation: 'none', output: 'logits' },
  ];
  for (const [h, wd] of [[9, 14], [8, 7]] as const) {
    const graph: ModelGraph = { inputShape: [h, wd, 1], layers, outputs: ['logits', 'features', 'block'] };
    const infos = inferShapes(graph, w);
    // floor((9 + 2 - 3) / 2) + 1 = 5 rows, floor((14 + 2 - 3) / 2) + 1 = 7 columns.
    if (h === 9) assert.deepEqual(infos[0]!.outputShape, [5, 7, 6]);
    await checkAll(`efficientat ops ${h}x${wd}`, graph, w, randn(r, 3 * h * wd, 2), 3);
  }
});

test('reference hardswish, squeezeExcite and add match hand-computed values; bad add and SE are named errors', () => {
  const w: W = new Map([
    ['s1', { shape: [2, 1], data: Float32Array.of(1, 1) }],
    ['s1b', { shape: [1], data: Float32Array.of(0) }],
    ['s2', { shape: [1, 2], data: Float32Array.of(0, 1) }],
    ['s2b', { shape: [2], data: Float32Array.of(0, 0) }],
  ]);
  const graph: ModelGraph = {
    inputShape: [1, 2, 2],
    layers: [
      { op: 'squeezeExcite', squeeze: 's1', squeezeBias: 's1b', excite: 's2', exciteBias: 's2b', output: 'se' },
      { op: 'add', from: 'se', output: 'out' },
    ],
    outputs: ['out'],
  };
  // x = [[1, 2], [3, 4]] (2 positions x 2 channels); channel means 2 and 3; hidden relu(5) = 5;
  // scales sigmoid(0) = 0.5 and sigmoid(5); se = x * scale; out = se + se.
  const s5 = 1 / (1 + Math.exp(-5));
  const out = runReference(graph, w, Float32Array.of(1, 2, 3, 4), 1)['out']!;
  const expect = [1 * 0.5 * 2, 2 * s5 * 2, 3 * 0.5 * 2, 4 * s5 * 2];
  expect.forEach((v, i) => assert.ok(Math.abs(out[i]! - v) < 1e-6, `out[${i}] = ${out[i]}, expected ${v}`));
  const hs = runReference({ inputShape: [3], layers: [{ op: 'dense', weights: 'i', activation: 'hardswish', output: 'y' }], outputs: ['y'] }, new Map([['i', { shape: [3, 3], data: Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1) }]]), Float32Array.of(-4, 1, 5), 1)['y']!;
  assert.deepEqual([...hs].map((v) => v + 0), [0, 1 * 4 / 6, 5].map(Math.fround)); // -4 * 0 is -0
  assert.throws(() => inferShapes({ ...graph, layers: [{ op: 'add', from: 'nowhere', output: 'out' }] }, w), (e) => isEarshotError(e, 'MODEL_INVALID') && /adds 'nowhere'/.test((e as Error).message));
  const bad = new Map(w);
  bad.set('s2', { shape: [1, 3], data: new Float32Array(3) });
  assert.throws(() => inferShapes(graph, bad), (e) => isEarshotError(e, 'MODEL_SHAPE_MISMATCH') && /'s2'/.test((e as Error).message));
});
