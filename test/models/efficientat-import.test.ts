import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import { convertModelDir } from '../../src/models/convert.js';
import { mnConfig } from '../../src/models/efficientat/graph.js';
import { mapStateDict } from '../../src/models/efficientat/import.js';
import { readPth } from '../../src/models/import/pth.js';
import { halfToFloat } from '../../src/models/import/tensors.js';
import { readModelDir } from '../../src/models/modeldir.js';
import { floatToHalf } from '../../src/models/weight-dtypes.js';
import { runCli } from '../helpers/cli.js';
import { rng } from '../helpers/rng.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';

const pt = () => readPth(sharedPath('models/efficientat/mn04_as_mAP_432.pt')).tensors;

test('mn04 state dict maps completely at width 0.4; another width or head is refused naming the tensor', () => {
  const tensors = pt();
  const w = mapStateDict(tensors, mnConfig(0.4), 'mn04.pt');
  assert.equal([...w.values()].reduce((a, t) => a + t.data.length, 0), 978679);
  assert.deepEqual(w.get('features.1.block.0.0.weight')!.shape, [3, 3, 8, 1]); // depthwise HWC1
  assert.deepEqual(w.get('classifier.5.weight')!.shape, [512, 527]);
  assert.throws(() => mapStateDict(tensors, mnConfig(1.0), 'mn04.pt'), (e) => isEarshotError(e, 'MODEL_SHAPE_MISMATCH') && /tensor features\.0\.0\.weight has shape \[8,1,3,3\].*width 1 .*expects \[16,1,3,3\]/.test((e as Error).message));
  const noHead = tensors.filter((t) => !t.name.startsWith('classifier.5'));
  assert.throws(() => mapStateDict(noHead, mnConfig(0.4), 'mn04.pt'), (e) => isEarshotError(e, 'MODEL_INVALID') && /classifier\.5\.weight .*missing.*mlp/.test((e as Error).message));
  const extra = [...tensors, { name: 'classifier.7.weight', shape: [527, 527], data: new Float32Array(527 * 527) }];
  assert.throws(() => mapStateDict(extra, mnConfig(0.4), 'mn04.pt'), (e) => isEarshotError(e, 'MODEL_UNKNOWN_VARIABLE') && /classifier\.7\.weight/.test((e as Error).message));
});

test('CLI import of a state dict with the wrong --width exits 2 naming the tensor', async () => {
  const root = mkdtempSync(join(tmpdir(), 'earshot-mn-'));
  try {
    const r = await runCli(['models', 'import', 'efficientat', sharedPath('models/efficientat/mn04_as_mAP_432.pt'), '--out', join(root, 'm'), '--width', '0.5']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error \[MODEL_SHAPE_MISMATCH\]: .*tensor features\.\S+ has shape/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('float16 rounding is to nearest even and round-trips every half; int8 keeps per-channel scales', () => {
  for (let h = 0; h < 0x10000; h++) {
    const v = halfToFloat(h);
    if (Number.isNaN(v)) continue;
    assert.equal(floatToHalf(v), h, `half ${h.toString(16)}`);
  }
  assert.equal(halfToFloat(floatToHalf(1 + 2 ** -11)), 1); // tie -> even
  assert.equal(halfToFloat(floatToHalf(1 + 3 * 2 ** -11)), 1 + 2 ** -9);
  assert.equal(halfToFloat(floatToHalf(70000)), Infinity);

  const root = mkdtempSync(join(tmpdir(), 'earshot-dtype-'));
  try {
    const src = join(projectRoot, 'models', 'efficientat-mn04');
    const f16 = readModelDir(src);
    const r = rng(7);
    const int8 = join(root, 'int8');
    convertModelDir(src, int8, 'int8');
    const q = readModelDir(int8);
    assert.ok(statSync(join(int8, 'weights.bin')).size < 0.55 * statSync(join(src, 'weights.bin')).size);
    assert.equal(readFileSync(join(int8, 'SOURCE.md'), 'utf8'), readFileSync(join(src, 'SOURCE.md'), 'utf8'));
    for (const [name, t] of f16.weights) {
      const u = q.weights.get(name)!;
      assert.deepEqual(u.shape, t.shape);
      if (t.shape.length < 2) {
        assert.deepEqual(u.data, t.data, `${name}: biases stay exact`);
        continue;
      }
      // Per channel, the error is at most half a step of that channel's scale max|w| / 127.
      const c = t.shape[t.shape.length - 1] === 1 ? t.shape[t.shape.length - 2]! : t.shape[t.shape.length - 1]!;
      const max = new Float64Array(c);
      t.data.forEach((v, i) => (max[i % c] = Math.max(max[i % c]!, Math.abs(v))));
      const i = Math.floor(r() * t.data.length);
      assert.ok(Math.abs(u.data[i]! - t.data[i]!) <= max[i % c]! / 254 + 1e-7, `${name}[${i}]`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('fresh install: from another working directory `earshot tag` uses the shipped mn04 (or YAMNet) with no import step', async () => {
  const cwd = mkdtempSync(join(tmpdir(), 'earshot-fresh-'));
  try {
    const r = await runCli(['tag', sharedPath('golden/efficientat/speech_en.wav'), '--clip', '--json', '--top', '3'], { cwd, env: { EARSHOT_CONFIG: '' } });
    assert.equal(r.code, 0, r.stderr);
    const line = JSON.parse(r.stdout) as { t: number; top: Array<{ label: string; score: number }> };
    assert.ok(Math.abs(line.t - 4.13084375) < 1e-6);
    // Golden (float32) top-2: Speech synthesizer 0.8521, Speech 0.774; the shipped weights are float16.
    assert.deepEqual(line.top.slice(0, 2).map((l) => l.label), ['Speech synthesizer', 'Speech']);
    assert.ok(Math.abs(line.top[0]!.score - 0.8521) < 0.01);
    const y = await runCli(['tag', sharedPath('golden/efficientat/speech_en.wav'), '--json', '--top', '1', '--no-events'], { cwd, env: { EARSHOT_CONFIG: '', EARSHOT__MODELS__TAGGER: 'yamnet' } });
    assert.equal(y.code, 0, y.stderr);
    assert.equal((JSON.parse(y.stdout.split('\n')[0]!) as { top: Array<{ label: string }> }).top[0]!.label, 'Speech');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
