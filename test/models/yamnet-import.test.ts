import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import { runReference } from '../../src/models/graph/reference.js';
import { inferShapes, outputShapes } from '../../src/models/graph/shapes.js';
import { readModelDir } from '../../src/models/modeldir.js';
import { parseTflite, type TfliteModel, type TfliteOperator } from '../../src/models/tflite/schema.js';
import { yamnetGraph, yamnetWeightShapes } from '../../src/models/yamnet/graph.js';
import { importYamnet } from '../../src/models/yamnet/import.js';
import { mapYamnetWeights } from '../../src/models/yamnet/weights.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

const tflitePath = sharedPath('models/yamnet/yamnet.tflite');
const tflite = readFileSync(tflitePath);

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'earshot-yamnet-'));
}

test('import writes a verified model directory with every YAMNet tensor mapped in TF layout', (t) => {
  const root = tmp();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const out = join(root, 'yamnet');
  const r = importYamnet({ tflitePath, outDir: out });
  assert.equal(r.skippedFrontendOps, 74, 'waveform/STFT/mel ops before the first conv are skipped');
  assert.equal(r.mapped.length, 56);
  const md = readModelDir(out);
  assert.equal(md.manifest.name, 'yamnet');
  assert.deepEqual(md.manifest.frontend, { logOffset: 0.001, patchHopSeconds: 0.48 });
  assert.equal(md.manifest.provenance?.sourceSha256, createHash('sha256').update(tflite).digest('hex'));
  assert.equal(md.manifest.provenance?.license, 'Apache-2.0');
  assert.deepEqual(
    [...md.weights].map(([name, w]) => ({ name, shape: [...w.shape] })),
    yamnetWeightShapes().map((s) => ({ name: s.name, shape: [...s.shape] })),
  );
  // 13 pointwise + 11 depthwise convs + logits are int8 per-channel in the file; layer1 and the first two depthwise are float.
  assert.equal(r.mapped.filter((m) => m.quantized === 'per-channel').length, 13 + 11 + 1);
  assert.equal(md.labels.length, 521);
  assert.deepEqual(md.labels[0], { index: 0, id: '/m/09x0r', name: 'Speech' });
  const shapes = outputShapes(yamnetGraph(), inferShapes(yamnetGraph(), md.weights));
  assert.deepEqual(shapes, { embedding: [1024], scores: [521] });
});

test('the imported network scores the Coral test patch (speech) as Speech', (t) => {
  const root = tmp();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  importYamnet({ tflitePath, outDir: join(root, 'm') });
  const md = readModelDir(join(root, 'm'));
  const b = readFileSync(sharedPath('models/yamnet/testdata/yamnet_test_spectra.bin'));
  const patch = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const out = runReference(yamnetGraph(), md.weights, patch, 1);
  const scores = out.scores!;
  const best = scores.indexOf(Math.max(...scores));
  assert.equal(md.labels[best]!.name, 'Speech');
  assert.ok(scores[best]! > 0.9, `Speech score ${scores[best]}`);
  assert.equal(out.embedding!.length, 1024);
  assert.ok(out.embedding!.every((v) => v >= 0), 'embedding is a mean of ReLU outputs');
});

function withOps(m: TfliteModel, f: (ops: TfliteOperator[]) => TfliteOperator[]): TfliteModel {
  const g = m.subgraphs[0]!;
  return { ...m, subgraphs: [{ ...g, operators: f([...g.operators]) }] };
}

test('graphs that differ from YAMNet are rejected naming the operator and tensor; DEQUANTIZE-fed weights are accepted', () => {
  const m = parseTflite(new Uint8Array(tflite), 'yamnet.tflite');
  const ops = m.subgraphs[0]!.operators;
  const dw = ops.filter((o) => o.op === 'DEPTHWISE_CONV_2D');
  // A missing separable block.
  const missing = withOps(m, (o) => o.filter((x) => x !== dw[5]));
  assert.throws(() => mapYamnetWeights(missing), (e) => isEarshotError(e, 'MODEL_INVALID') && /27 conv layers.*has 26/.test(e.message));
  // An extra conv after the body.
  const last = ops.find((o) => o.op === 'MEAN')!;
  const extra = withOps(m, (o) => [...o.slice(0, last.index), { ...ops[100]!, index: 999 }, ...o.slice(last.index)]);
  assert.throws(() => mapYamnetWeights(extra), (e) => isEarshotError(e, 'MODEL_INVALID') && /has 28/.test(e.message));
  // A filter with the wrong shape: layer 3's pointwise reads layer 2's pointwise filter.
  const pw = ops.filter((o) => o.op === 'CONV_2D');
  const swapped = withOps(m, (o) => o.map((x) => (x === pw[2] ? { ...x, inputs: [x.inputs[0]!, pw[1]!.inputs[1]!, x.inputs[2]!] } : x)));
  assert.throws(
    () => mapYamnetWeights(swapped),
    (e) => isEarshotError(e, 'MODEL_SHAPE_MISMATCH') && e.message.includes(`operator ${pw[2]!.index} (CONV_2D)`) && e.message.includes(`tensor ${m.subgraphs[0]!.tensors[pw[1]!.inputs[1]!]!.name} `) && /maps to layer3\/pointwise_conv\/weights with shape \[1,1,32,64\], expected \[1,1,64,128\]/.test(e.message),
  );
  // Weights behind an explicit DEQUANTIZE op (float16 / older int8 exports) map to the same values.
  const g = m.subgraphs[0]!;
  const viaDq = (() => {
    const pwOp = pw[5]!;
    const stored = g.tensors[pwOp.inputs[1]!]!;
    const out = { index: g.tensors.length, name: `${stored.name}/dequantized`, shape: stored.shape, type: 'FLOAT32' as const, buffer: 0 };
    const dqOp: TfliteOperator = { index: g.operators.length, op: 'DEQUANTIZE', builtinCode: 6, inputs: [stored.index], outputs: [out.index] };
    const ops2 = g.operators.map((x) => (x === pwOp ? { ...x, inputs: [x.inputs[0]!, out.index, x.inputs[2]!] } : x));
    return { ...m, subgraphs: [{ ...g, tensors: [...g.tensors, out], operators: [dqOp, ...ops2] }] };
  })();
  assert.equal(m.buffers[0]!.length, 0);
  const direct = mapYamnetWeights(m).weights;
  const dequantized = mapYamnetWeights(viaDq).weights;
  for (const [name, w] of direct) assert.deepEqual(dequantized.get(name)!.data, w.data, name);

  // A stride that differs from _YAMNET_LAYER_DEFS.
  const stride = withOps(m, (o) => o.map((x) => (x === dw[0] && x.options?.kind === 'depthwiseConv2d' ? { ...x, options: { ...x.options, strideH: 2, strideW: 2 } } : x)));
  assert.throws(() => mapYamnetWeights(stride), (e) => isEarshotError(e, 'MODEL_SHAPE_MISMATCH') && /layer2\/depthwise_conv needs stride 1/.test(e.message));
});

test('CLI: models import yamnet writes the directory; missing class map and bad files are typed errors', async (t) => {
  const root = tmp();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const out = join(root, 'models', 'yamnet');
  const ok = await runCli(['models', 'import', 'yamnet', tflitePath, '--out', out]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /56 tensors/);
  assert.equal(readModelDir(out).labels.length, 521);

  const list = await runCli(['models', 'import', 'yamnet', tflitePath, '--list']);
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trimEnd().split('\n');
  assert.equal(lines[0], 'subgraph main: 193 tensors, 104 operators');
  assert.equal(lines.length, 1 + 104);
  assert.match(lines[1 + 41]!, /^ {2}41 RFFT2D /);
  assert.match(lines[1 + 102]!, /^ 102 FULLY_CONNECTED .* \[521,1024\]INT8\* q521@0 /);

  // A tflite copied away from its class map needs --labels.
  const lone = join(root, 'lone.tflite');
  copyFileSync(tflitePath, lone);
  const noLabels = await runCli(['models', 'import', 'yamnet', lone, '--out', join(root, 'x')]);
  assert.equal(noLabels.code, 2);
  assert.match(noLabels.stderr, /error \[MODEL_NOT_FOUND\]: YAMNet class map not found: .*yamnet_class_map\.csv/);
  importYamnet({ tflitePath: lone, labelsPath: sharedPath('models/yamnet/yamnet_class_map.csv'), outDir: join(root, 'y') });
  assert.equal(readModelDir(join(root, 'y')).labels[520]!.name, 'Field recording');

  const junk = join(root, 'junk.tflite');
  writeFileSync(junk, 'this is not a model at all');
  const bad = await runCli(['models', 'import', 'yamnet', junk, '--labels', sharedPath('models/yamnet/yamnet_class_map.csv'), '--out', join(root, 'z')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error \[MODEL_INVALID\]: .*junk\.tflite: not a TFL3 flatbuffer/);
});

test('import checks the tflite before the class map, and a missing class map says where it looked', (t) => {
  const root = tmp();
  t.after(() => rmSync(root, { recursive: true, force: true }));
  // A junk tflite with no class map beside it: the tflite (the file the user named) is reported.
  const junk = join(root, 'junk.tflite');
  writeFileSync(junk, 'this is not a model at all');
  assert.throws(() => importYamnet({ tflitePath: junk, outDir: join(root, 'a') }), (e) => isEarshotError(e, 'MODEL_INVALID') && /junk\.tflite: not a TFL3 flatbuffer/.test(e.message));
  const lone = join(root, 'lone.tflite');
  copyFileSync(tflitePath, lone);
  assert.throws(
    () => importYamnet({ tflitePath: lone, outDir: join(root, 'b') }),
    (e) => isEarshotError(e, 'MODEL_NOT_FOUND') && e.message.includes(`looked for yamnet_class_map.csv beside the tflite (${join(root, 'yamnet_class_map.csv')}); pass --labels`),
  );
});
