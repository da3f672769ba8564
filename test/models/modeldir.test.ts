import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import { parseCsv, readModelDir, writeModelDir } from '../../src/models/modeldir.js';
import { tempDir } from '../helpers/tmp.js';

const fields = { name: 'toy', architecture: 'toy', version: '1', input: { name: 'x', shape: [2] }, outputs: [{ name: 'y', shape: [3] }] };

test('model directory round-trips weights and labels and verifies sha256', () => {
  const dir = join(tempDir('md'), 'm');
  const w = new Map([
    ['a', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
    ['b', { shape: [3], data: Float32Array.from([-1, 0.5, 7]) }],
  ]);
  const labels = [
    { index: 0, id: '/m/09x0r', name: 'Speech' },
    { index: 1, id: '/m/x', name: 'Child speech, kid speaking' },
  ];
  writeModelDir(dir, fields, w, labels);
  const md = readModelDir(dir);
  assert.deepEqual([...md.weights.get('a')!.data], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual([...md.weights.get('b')!.data], [-1, 0.5, 7]);
  assert.deepEqual(md.labels, labels);
  const wp = join(dir, 'weights.bin');
  const blob = readFileSync(wp);
  blob[0] = blob[0]! ^ 1;
  writeFileSync(wp, blob);
  assert.throws(() => readModelDir(dir), (e) => isEarshotError(e, 'MODEL_CHECKSUM_MISMATCH'));
});

test('missing directory and shape mismatch are typed errors', () => {
  assert.throws(() => readModelDir('/nonexistent/model'), (e) => isEarshotError(e, 'MODEL_NOT_FOUND'));
  const dir = join(tempDir('md'), 'm');
  assert.throws(() => writeModelDir(dir, fields, new Map([['a', { shape: [4], data: new Float32Array(3) }]])), /tensor a/);
});

test('csv parser handles quotes, commas and CRLF', () => {
  assert.deepEqual(parseCsv('a,"b, c","d ""e"""\r\n1,2,3\n'), [
    ['a', 'b, c', 'd "e"'],
    ['1', '2', '3'],
  ]);
});

test('a missing model directory is MODEL_NOT_FOUND naming the command that creates that kind of model', async () => {
  const dir = join(tempDir('md'), 'absent');
  const { loadYamnetTagger } = await import('../../src/models/yamnet/tagger.js');
  const { loadClassifier } = await import('../../src/classify/store.js');
  const { openVggish } = await import('../../src/models/vggish/index.js');
  const { engineSchema } = await import('../../src/config/sections/engine.js');
  await assert.rejects(loadYamnetTagger(dir, engineSchema.parse({})), (e) => isEarshotError(e, 'MODEL_NOT_FOUND') && e.message.includes(`earshot models import yamnet <yamnet.tflite> --out ${dir}`));
  assert.throws(() => loadClassifier(dir), (e) => isEarshotError(e, 'MODEL_NOT_FOUND') && e.message.includes(`earshot train --data <tfrecords> --out ${dir}`));
  await assert.rejects(openVggish(dir, engineSchema.parse({})), (e) => isEarshotError(e, 'MODEL_NOT_FOUND') && e.message.includes(`earshot models fetch vggish --out ${dir}`));
  assert.throws(() => readModelDir(dir), (e) => isEarshotError(e, 'MODEL_NOT_FOUND') && /no model directory at/.test(e.message));
});
