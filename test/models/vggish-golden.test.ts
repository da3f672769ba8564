import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { EmbeddingEngine, Layer, ModelGraph, Weights } from '../../src/models/contracts.js';
import { createOnnxEngine } from '../../src/models/engine/onnx.js';
import { createTfjsEngine } from '../../src/models/engine/tfjs.js';
import { runReference } from '../../src/models/graph/reference.js';
import { graphMacs, inferShapes } from '../../src/models/graph/shapes.js';
import { fmix32,formulaTensor, formulaVggishWeights } from '../../src/models/vggish/formula.js';
import { VGGISH_OUTPUT, VGGISH_PARAMETERS, VGGISH_VARIABLES,vggishGraph } from '../../src/models/vggish/network.js';
import { f32 } from '../helpers/numeric.js';
import { sharedPath } from '../helpers/shared.js';

// VGGish on the formula weights against shared/golden/vggish-net (generated with numpy),
// on both engines, plus unseen inputs and a reduced-width VGGish against the reference.

function rel(a: Float32Array, ref: Float32Array): number {
  assert.equal(a.length, ref.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < ref.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - ref[i]!));
    m = Math.max(m, Math.abs(ref[i]!));
  }
  return d / m;
}

const golden = (name: string) => sharedPath('golden', 'vggish-net', name);

test('VGGish graph: 72,141,184 parameters, official names and shapes, ~0.86 GMAC per patch', () => {
  assert.equal(VGGISH_PARAMETERS, 72_141_184);
  assert.deepEqual(VGGISH_VARIABLES.get('vggish/conv3/conv3_2/weights'), [3, 3, 256, 256]);
  assert.deepEqual(VGGISH_VARIABLES.get('vggish/fc1/fc1_1/weights'), [12288, 4096]);
  const w = formulaVggishWeights();
  const infos = inferShapes(vggishGraph(), w);
  assert.deepEqual(infos.find((i) => i.layer.op === 'flatten')!.outputShape, [12288]);
  const macs = graphMacs(infos, w);
  assert.ok(macs > 0.86e9 && macs < 0.87e9, `MACs ${macs}`);
});

test('formula weights: fmix32 is MurmurHash3 fmix32 and values follow the documented scale', () => {
  assert.equal(fmix32(0), 0);
  assert.equal(fmix32(1), 0x514e28b7); // MurmurHash3 finalizer of 1
  const conv1 = formulaTensor(0, [3, 3, 1, 64]);
  const bound = Math.sqrt(6 / 9);
  assert.ok(conv1.every((v) => Math.abs(v) <= bound));
  const b = formulaTensor(1, [64]);
  assert.ok(b.every((v) => Math.abs(v) <= 0.1) && b.some((v) => Math.abs(v) > 0.05));
});

async function withEngine<T>(make: () => Promise<EmbeddingEngine>, fn: (e: EmbeddingEngine) => Promise<T>): Promise<T> {
  const e = await make();
  try {
    return await fn(e);
  } finally {
    await e.dispose();
  }
}

test('golden: both engines reproduce embedding.f32 within 1e-3 and agree with each other on unseen patches within 1e-4', async () => {
  const weights = formulaVggishWeights();
  const graph = vggishGraph();
  const input = f32(golden('input.f32'));
  const expected = f32(golden('embedding.f32'));
  assert.equal(input.length, 9 * 96 * 64);
  // Unseen: random log-mel-like patches (values around log(0.01)..log(10)).
  let s = 12345;
  const unseen = Float32Array.from({ length: 3 * 96 * 64 }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 4294967296) * 7 - 4.6;
  });
  const onnx = await withEngine(() => createOnnxEngine(graph, weights, { threads: 2 }), async (e) => ({ g: (await e.run(input, 9))[VGGISH_OUTPUT]!, u: (await e.run(unseen, 3))[VGGISH_OUTPUT]! }));
  assert.ok(rel(onnx.g, expected) < 1e-3, `onnx vs golden ${rel(onnx.g, expected)}`);
  const wasm = await withEngine(() => createTfjsEngine(graph, weights, { backend: 'wasm', threads: 0 }), async (e) => {
    assert.equal(e.backend, 'wasm');
    return { g: (await e.run(input, 9))[VGGISH_OUTPUT]!, u: (await e.run(unseen, 3))[VGGISH_OUTPUT]! };
  });
  assert.ok(rel(wasm.g, expected) < 1e-3, `tfjs-wasm vs golden ${rel(wasm.g, expected)}`);
  assert.ok(rel(wasm.u, onnx.u) < 1e-4, `tfjs-wasm vs onnx on unseen patches ${rel(wasm.u, onnx.u)}`);
  assert.ok(rel(wasm.g, onnx.g) < 1e-4, `tfjs-wasm vs onnx on golden patches ${rel(wasm.g, onnx.g)}`);
  // The embeddings must depend on the input (guards against a constant-output bug).
  assert.ok(rel(onnx.u.subarray(0, 128), onnx.u.subarray(128, 256)) > 1e-2);
  // tfjs-cpu is ~0.5 patch/s on VGGish: one patch suffices to show it computes the same function.
  const cpu = await withEngine(() => createTfjsEngine(graph, weights, { backend: 'cpu', threads: 0 }), async (e) => (await e.run(input.subarray(0, 96 * 64), 1))[VGGISH_OUTPUT]!);
  assert.ok(rel(cpu, expected.subarray(0, 128)) < 1e-3, `tfjs-cpu vs golden ${rel(cpu, expected.subarray(0, 128))}`);
});

/** VGGish's exact topology at 1/16 width, small enough for the plain-loop reference. */
function miniVggish(): { graph: ModelGraph; weights: Weights } {
  const full = vggishGraph();
  const shrink = (n: number) => Math.max(1, n / 16);
  const w = new Map<string, { shape: number[]; data: Float32Array }>();
  let k = 0;
  const layers: Layer[] = full.layers.map((l) => {
    if (l.op !== 'conv2d' && l.op !== 'dense') return l;
    const shape = [...VGGISH_VARIABLES.get(l.weights)!];
    const io = l.op === 'conv2d' ? [2, 3] : [0, 1];
    for (const d of io) shape[d] = l.op === 'dense' && d === 0 && l.weights.endsWith('fc1_1/weights') ? 6 * 4 * 32 : shrink(shape[d]!);
    w.set(l.weights, { shape, data: formulaTensor(k++, shape) });
    w.set(l.bias!, { shape: [shape[shape.length - 1]!], data: formulaTensor(k++, [shape[shape.length - 1]!]) });
    return l;
  });
  // conv1 keeps its single input channel.
  const c1 = w.get('vggish/conv1/weights')!;
  c1.shape[2] = 1;
  c1.data = formulaTensor(0, c1.shape);
  return { graph: { ...full, layers }, weights: w };
}

test('reduced-width VGGish topology: onnx and tfjs-wasm match the plain-loop reference', async () => {
  const { graph, weights } = miniVggish();
  const input = f32(golden('input.f32')).subarray(0, 2 * 96 * 64);
  const ref = runReference(graph, weights, input, 2)[VGGISH_OUTPUT]!;
  assert.equal(ref.length, 2 * 8);
  for (const make of [() => createOnnxEngine(graph, weights, { threads: 1 }), () => createTfjsEngine(graph, weights, { backend: 'wasm', threads: 0 })]) {
    const out = await withEngine(make, async (e) => (await e.run(input, 2))[VGGISH_OUTPUT]!);
    assert.ok(rel(out, ref) < 1e-5, `reduced VGGish vs reference ${rel(out, ref)}`);
  }
});
