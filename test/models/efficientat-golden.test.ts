import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { engineSchema } from '../../src/config/sections/engine.js';
import { loadEfficientAtTagger } from '../../src/models/efficientat/tagger.js';
import { runCli } from '../helpers/cli.js';
import { f32, maxAbsDiff } from '../helpers/numeric.js';
import { sharedPath } from '../helpers/shared.js';

// Parity with ../shared/golden/efficientat (the authors' PyTorch code, see its index.json):
// the CLI's frontend output and clip scores on both engines, for every WAV the index lists.

interface Entry {
  wav: string;
  mel_shape: [number, number];
  logits: number;
  features: number;
  seconds: number;
}

const golden = (...p: string[]) => sharedPath('golden/efficientat', ...p);
const index = JSON.parse(readFileSync(golden('index.json'), 'utf8')) as Record<string, Entry>;
const names = Object.keys(index).filter((k) => !k.startsWith('_'));

let root = '';
let dir = '';
before(async () => {
  root = mkdtempSync(join(tmpdir(), 'earshot-efficientat-'));
  dir = join(root, 'mn04');
  const r = await runCli(['models', 'import', 'efficientat', sharedPath('models/efficientat/mn04_as_mAP_432.pt'), '--out', dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /978679 parameters .* 527 labels/);
});
after(() => rmSync(root, { recursive: true, force: true }));

test('golden index lists the five WAVs', () => {
  assert.equal(names.length, 5);
});

test('earshot features --model writes [128, T] float32 within 1e-3 of NAME.mel.f32', async () => {
  for (const name of names) {
    const e = index[name]!;
    const out = join(root, `${name}.mel.f32`);
    const r = await runCli(['features', golden(e.wav), '--model', dir, '--out', out, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { shape: number[] }).shape, e.mel_shape, name);
    const d = maxAbsDiff(f32(out), f32(golden(`${name}.mel.f32`)));
    assert.ok(d < 1e-3, `${name}: mel differs by ${d}`);
  }
});

for (const engine of ['onnx', 'tfjs'] as const) {
  test(`earshot tag --clip --json --top 527 on ${engine} gives sigmoid(NAME.logits.f32) within 1e-4`, async () => {
    for (const name of names) {
      const e = index[name]!;
      const r = await runCli(['tag', golden(e.wav), '--model', dir, '--clip', '--json', '--top', '527', '--engine', engine]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 1, `${name}: one clip line`);
      const clip = JSON.parse(lines[0]!) as { t: number; top: Array<{ id: string; score: number }> };
      assert.ok(Math.abs(clip.t - e.seconds) < 1e-6, `${name}: t ${clip.t} is the duration ${e.seconds}`);
      assert.equal(clip.top.length, e.logits);
      const logits = f32(golden(`${name}.logits.f32`));
      const expected = Array.from(logits, (x) => 1 / (1 + Math.exp(-x)));
      // Lines are sorted by score; map back through the label ids of the model's labels.csv.
      const ids = readFileSync(join(dir, 'labels.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',')[1]!);
      const got = new Array<number>(e.logits).fill(NaN);
      for (const l of clip.top) got[ids.indexOf(l.id)] = l.score;
      const d = maxAbsDiff(got, expected);
      assert.ok(d < 1e-4, `${name} on ${engine}: scores differ by ${d}`);
    }
  });
}

test('the tagger pools the same 384-d features as the reference (ONNX, in process)', async () => {
  const tagger = await loadEfficientAtTagger(dir, engineSchema.parse({ kind: 'onnx', threads: 1 }));
  try {
    for (const name of names) {
      const e = index[name]!;
      const mel = f32(golden(`${name}.mel.f32`));
      const r = await tagger.scoreMels(mel, e.mel_shape[1], 1);
      const d = maxAbsDiff(r.features, f32(golden(`${name}.features.f32`)));
      assert.equal(r.features.length, e.features);
      assert.ok(d < 1e-4, `${name}: features differ by ${d}`);
    }
  } finally {
    await tagger.dispose();
  }
});
