import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import { mapTfjsName } from '../../src/models/import/names.js';
import { readTfjs, writeTfjs } from '../../src/models/import/tfjs.js';
import { readVggishSource } from '../../src/models/import/vggish.js';
import { asRawTensors, miniVggishTable, seededWeights } from '../helpers/import-fixtures.js';

const table = miniVggishTable();
const tmp = (): string => mkdtempSync(join(tmpdir(), 'earshot-tfjs-'));

test('TF.js model.json with weights split across shards imports exactly (official names)', () => {
  const d = tmp();
  const w = seededWeights(table, 31);
  const json = writeTfjs(d, asRawTensors(w), 1000);
  const m = JSON.parse(readFileSync(json, 'utf8')) as { weightsManifest: Array<{ paths: string[] }> };
  assert.ok(m.weightsManifest[0]!.paths.length > 10, 'several shards, tensors straddling shard boundaries');
  for (const p of [json, d]) {
    const src = readVggishSource(p, { table });
    assert.equal(src.format, 'tfjs');
    for (const [name, t] of w) assert.deepEqual(src.weights.get(name)!.data, t.data, name);
  }
  rmSync(d, { recursive: true, force: true });
});

test('Keras-style names (kernel/bias, with or without scopes) map to the official variables', () => {
  assert.equal(mapTfjsName('conv3_1/kernel'), 'vggish/conv3/conv3_1/weights');
  assert.equal(mapTfjsName('vggish/conv4/conv4_2/bias:0'), 'vggish/conv4/conv4_2/biases');
  assert.equal(mapTfjsName('fc1_1/kernel'), 'vggish/fc1/fc1_1/weights');
  assert.equal(mapTfjsName('fc2/bias'), 'vggish/fc2/biases');
  assert.equal(mapTfjsName('vggish/conv1/weights'), 'vggish/conv1/weights');
  assert.equal(mapTfjsName('dense_7/kernel'), 'dense_7/kernel');
  const d = tmp();
  const w = seededWeights(table, 32);
  const keras = asRawTensors(w).map((t) => ({ ...t, name: t.name.replace(/^vggish\/(?:conv3\/|conv4\/|fc1\/)?/, '').replace(/weights$/, 'kernel').replace(/biases$/, 'bias') }));
  assert.equal(keras[0]!.name, 'conv1/kernel');
  writeTfjs(d, keras);
  const src = readVggishSource(join(d, 'model.json'), { table });
  for (const [name, t] of w) assert.deepEqual(src.weights.get(name)!.data, t.data, name);
  rmSync(d, { recursive: true, force: true });
});

test('quantized weights (uint8, uint16 affine; float16) dequantize to the documented values', () => {
  const d = tmp();
  const u8 = Uint8Array.from([0, 1, 255]);
  const u16 = new Uint16Array([0, 2, 65535]);
  const f16 = new Uint16Array([0x3c00, 0xc000, 0x3555]); // 1, -2, ~0.33325
  const bin = new Uint8Array(3 + 6 + 6);
  bin.set(u8, 0);
  bin.set(new Uint8Array(u16.buffer), 3);
  bin.set(new Uint8Array(f16.buffer), 9);
  writeFileSync(join(d, 'w.bin'), bin);
  writeFileSync(
    join(d, 'model.json'),
    JSON.stringify({
      weightsManifest: [
        {
          paths: ['w.bin'],
          weights: [
            { name: 'a', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
            { name: 'b', shape: [3], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.25, min: 2 } },
            { name: 'c', shape: [3], dtype: 'float32', quantization: { dtype: 'float16' } },
          ],
        },
      ],
    }),
  );
  const r = readTfjs(join(d, 'model.json'));
  assert.deepEqual([...r.tensors[0]!.data], [-1, -0.5, 126.5]);
  assert.deepEqual([...r.tensors[1]!.data], [2, 2.5, 65535 * 0.25 + 2]);
  assert.deepEqual([...r.tensors[2]!.data], [1, -2, Math.fround(0.333251953125)]);
  rmSync(d, { recursive: true, force: true });
});

test('truncated shards, missing shards, escaping paths and unknown names are named errors', () => {
  const d = tmp();
  const w = seededWeights(table, 33);
  const json = writeTfjs(d, asRawTensors(w), 4096);
  const m = JSON.parse(readFileSync(json, 'utf8')) as { weightsManifest: Array<{ paths: string[]; weights: Array<{ name: string }> }> };
  const last = join(d, m.weightsManifest[0]!.paths.at(-1)!);
  const bytes = readFileSync(last);
  truncateSync(last, bytes.length - 4);
  assert.throws(() => readTfjs(json), (e) => isEarshotError(e, 'DATA_CORRUPT') && /vggish\/fc2\/biases/.test(e.message) && /truncated/.test(e.message));
  rmSync(last);
  assert.throws(() => readTfjs(json), (e) => isEarshotError(e, 'MODEL_NOT_FOUND') && e.message.includes(m.weightsManifest[0]!.paths.at(-1)!));
  writeFileSync(last, bytes);
  const evil = structuredClone(m);
  evil.weightsManifest[0]!.paths[0] = '../../etc/passwd';
  writeFileSync(json, JSON.stringify(evil));
  assert.throws(() => readTfjs(json), (e) => isEarshotError(e, 'MODEL_INVALID') && /outside the model directory/.test(e.message));
  const renamed = structuredClone(m);
  renamed.weightsManifest[0]!.weights[2]!.name = 'dense_3/kernel';
  writeFileSync(json, JSON.stringify(renamed));
  assert.throws(() => readVggishSource(json, { table }), (e) => isEarshotError(e, 'MODEL_UNKNOWN_VARIABLE') && /dense_3\/kernel/.test(e.message));
  writeFileSync(json, '{"weightsManifest": [{"paths": "x"}]}');
  assert.throws(() => readTfjs(json), (e) => isEarshotError(e, 'MODEL_INVALID') && /paths/.test(e.message));
  rmSync(d, { recursive: true, force: true });
});
