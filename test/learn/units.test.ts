import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import type { Tagger } from '../../src/classify/contracts.js';
import { eventsSchema } from '../../src/config/sections/events.js';
import { isEarshotError } from '../../src/errors.js';
import { resolveThresholds } from '../../src/events/thresholds.js';
import { augment, DEFAULT_AUGMENT } from '../../src/learn/augment.js';
import { calibrateThreshold, countEvents } from '../../src/learn/calibrate.js';
import { withCustomHeads } from '../../src/learn/custom-tagger.js';
import { readDataset } from '../../src/learn/dataset.js';
import { applyHead, DEFAULT_HEAD, trainHead } from '../../src/learn/head.js';
import type { CustomModel } from '../../src/learn/modeldir.js';
import { activeFrames, windowRoles } from '../../src/learn/windows.js';
import { Rng } from '../../src/train/rng.js';
import { writeWav } from './soundset.js';

const RATE = 16000;

function toneInNoise(seconds: number, toneAt: number, toneSeconds: number, seed = 1): Float32Array {
  const rng = new Rng(seed);
  const x = new Float32Array(seconds * RATE);
  for (let i = 0; i < x.length; i++) x[i] = (rng.next() - 0.5) * 0.002;
  for (let i = Math.round(toneAt * RATE); i < Math.round((toneAt + toneSeconds) * RATE); i++) x[i]! += 0.3 * Math.sin((2 * Math.PI * 880 * i) / RATE);
  return x;
}

test('windows: the energy envelope finds the sound; windows over it are positive, windows away from it negative', () => {
  const x = toneInNoise(6, 2.5, 0.4);
  const mask = activeFrames(x, RATE);
  const on = [...mask.keys()].filter((i) => mask[i]);
  assert.ok(Math.abs(on[0]! * 0.01 - 2.5) < 0.03 && Math.abs(on.at(-1)! * 0.01 - 2.9) < 0.03, `active ${on[0]}..${on.at(-1)}`);
  const starts = Array.from({ length: 11 }, (_, i) => i * 0.48);
  const roles = windowRoles(mask, starts, 0.96);
  // windows [1.92, 2.88) and [2.40, 3.36) hold the tone; [0, 0.96) and [4.8, 5.76) none of it
  assert.equal(roles[4], 'positive');
  assert.equal(roles[5], 'positive');
  assert.equal(roles[0], 'negative');
  assert.equal(roles[10], 'negative');
});

test('augment: variants keep the sound where the mask says, at the SNR asked for; hard negatives differ from the sound', () => {
  const x = toneInNoise(3, 1, 0.5);
  const bg = [toneInNoise(10, 0, 0, 7).map((_, i) => Math.sin(i * 0.05) * 0.1)];
  const vs = augment(x, bg, new Rng(3), { ...DEFAULT_AUGMENT, variants: 6, rateHz: RATE });
  assert.equal(vs.length, 6);
  assert.equal(vs[0]!.samples, x, 'the first variant is the recording as it is');
  for (const v of vs.slice(1)) {
    assert.equal(v.mask.length, Math.ceil(v.samples.length / 160));
    const active = v.mask.reduce((a, b) => a + b, 0) * 0.01;
    assert.ok(active > 0.35 && active < 0.75, `sound of ~0.5 s stays marked: ${active}`);
  }
  const neg = augment(x, bg, new Rng(4), { ...DEFAULT_AUGMENT, variants: 3, rateHz: RATE }, 'negative');
  assert.equal(neg.length, 3);
});

test('head: logistic regression and the one-hidden-layer head separate classes they were trained on', () => {
  const rng = new Rng(5);
  const dim = 32;
  const make = (n: number) => {
    const x = new Float32Array(n * dim);
    const y = new Uint8Array(n * 3);
    const label: number[] = [];
    for (let r = 0; r < n; r++) {
      const c = rng.int(4) - 1; // -1 = background
      label.push(c);
      for (let j = 0; j < dim; j++) x[r * dim + j] = rng.next() - 0.5 + (c >= 0 && j % 3 === c ? 1.5 : 0);
      if (c >= 0) y[r * 3 + c] = 1;
    }
    return { x, y, n, dim, classes: 3, label };
  };
  const train = make(800);
  const testSet = make(300);
  for (const hidden of [0, 16]) {
    const h = trainHead(train, { ...DEFAULT_HEAD, hidden, epochs: 20 });
    const p = applyHead(h, testSet.x, testSet.n);
    let ok = 0;
    for (let r = 0; r < testSet.n; r++) {
      const c = testSet.label[r]!;
      const fired = [0, 1, 2].filter((k) => p[r * 3 + k]! >= 0.5);
      if ((c < 0 && fired.length === 0) || (fired.length === 1 && fired[0] === c)) ok++;
    }
    assert.ok(ok / testSet.n > 0.95, `hidden ${hidden}: ${ok}/${testSet.n}`);
  }
});

test('calibration: the threshold is the lowest at which the segmenter fires within the budget', () => {
  const events = eventsSchema.parse({});
  const seq = new Float32Array(7500).fill(0.05); // 1 h at 0.48 s
  const bumps = [0.9, 0.8, 0.7, 0.6];
  bumps.forEach((v, k) => seq.fill(v, 1000 * (k + 1), 1000 * (k + 1) + 3));
  const o = { events, hopSeconds: 0.48, offRatio: 0.75, minDurationSeconds: 0.48 };
  assert.equal(countEvents([seq], 0.65, o), 3);
  const cal0 = calibrateThreshold([seq], 3600, { ...o, budgetPerHour: 0, marginAbove: 0, floor: 0, ceiling: 1 });
  assert.ok(cal0.threshold > Math.fround(0.9) && cal0.threshold < 0.901, String(cal0.threshold));
  const cal2 = calibrateThreshold([seq], 3600, { ...o, budgetPerHour: 2, marginAbove: 0, floor: 0, ceiling: 1 });
  assert.ok(cal2.threshold > Math.fround(0.7) && cal2.threshold < 0.701, String(cal2.threshold));
  assert.equal(cal2.falseAlarmsPerHour, 2);
  // margin over the calibrated value, then floor and ceiling
  assert.equal(calibrateThreshold([seq], 3600, { ...o, budgetPerHour: 2, marginAbove: 0.05, floor: 0.5, ceiling: 0.95 }).threshold.toFixed(3), '0.750');
  assert.equal(calibrateThreshold([seq], 3600, { ...o, budgetPerHour: 5, marginAbove: 0, floor: 0.5, ceiling: 0.95 }).threshold, 0.5);
  assert.equal(calibrateThreshold([seq], 3600, { ...o, budgetPerHour: 0, marginAbove: 0.2, floor: 0.5, ceiling: 0.95 }).threshold, 0.95);
});

test('labels carry calibrated thresholds into the event stage; config events.labels still wins', () => {
  const labels = [
    { index: 0, id: '/m/09x0r', name: 'Speech' },
    { index: 1, id: 'custom:home/doorbell', name: 'doorbell', defaults: { onThreshold: 0.8, offThreshold: 0.6, minDurationSeconds: 0.48 } },
    { index: 2, id: 'custom:home/kettle', name: 'kettle', defaults: { onThreshold: 0.7, offThreshold: 0.5, minDurationSeconds: 0.48 } },
  ];
  const t = resolveThresholds(eventsSchema.parse({ labels: { kettle: { onThreshold: 0.9 } } }), labels);
  assert.deepEqual([...t.on], [0.5, 0.8, 0.9]);
  assert.deepEqual([...t.off], [0.3, 0.6, 0.5]);
  assert.deepEqual([...t.minDurationSeconds], [0.96, 0.48, 0.48]);
});

function fakeModel(dir: string, weightsSha256: string): CustomModel {
  const dim = 4;
  return {
    dir,
    labels: [
      { index: 0, id: 'custom:m/a', name: 'a' },
      { index: 1, id: 'custom:m/b', name: 'b' },
    ],
    manifest: {
      format: 'earshot-custom-model',
      formatVersion: 1,
      name: 'm',
      architecture: 'custom-head',
      base: { dir: '/base', architecture: 'yamnet', name: 'yamnet', weightsSha256, embeddingDim: dim },
      labels: [
        { id: 'custom:m/a', name: 'a' },
        { id: 'custom:m/b', name: 'b' },
      ],
      thresholds: { a: { onThreshold: 0.7, offThreshold: 0.5, minDurationSeconds: 0.48 } },
      falseAlarmsPerHour: 1,
      head: { file: 'head.json', hidden: 0 },
      data: { dir: '/data', files: 1, backgroundSeconds: 1 },
      trainedAt: '',
    },
    // z = x; logit_a = 10 x0, logit_b = 10 x1
    head: { inputDim: dim, classes: 2, hidden: 0, mean: new Float32Array(dim), std: new Float32Array(dim).fill(1), w1: Float32Array.from([10, 0, 0, 10, 0, 0, 0, 0]), b1: new Float32Array(2) },
  };
}

test('custom heads run beside the base tagger on its embedding: labels and scores appended, thresholds attached', async () => {
  const base: Tagger & { manifest: unknown } = {
    name: 'yamnet',
    labels: [{ index: 0, id: '/m/x', name: 'X' }],
    frontend: {},
    backend: 'fake',
    manifest: { architecture: 'yamnet', weights: { sha256: 'abc' } },
    openSession: () => ({ tag: async () => Float32Array.of(0.25), tagWithEmbedding: async () => ({ scores: Float32Array.of(0.25), embedding: Float32Array.of(1, -1, 0, 0) }) }),
    dispose: async () => {},
  };
  const t = withCustomHeads(base, [fakeModel('/m', 'abc')]);
  assert.deepEqual(
    t.labels.map((l) => [l.index, l.id]),
    [
      [0, '/m/x'],
      [1, 'custom:m/a'],
      [2, 'custom:m/b'],
    ],
  );
  assert.equal(t.labels[1]!.defaults?.onThreshold, 0.7);
  const r = await t.openSession().tagWithEmbedding!({ index: 0, data: new Float32Array(0), frames: 96, bands: 64, startSeconds: 0 } as never);
  assert.equal(r.scores[0], 0.25);
  assert.ok(r.scores[1]! > 0.99 && r.scores[2]! < 0.01, String([...r.scores]));
  const only = withCustomHeads(base, [fakeModel('/m', 'abc')], { onlyCustom: true });
  assert.deepEqual(
    only.labels.map((l) => l.name),
    ['a', 'b'],
  );
  assert.throws(
    () => withCustomHeads(base, [fakeModel('/other', 'def')]),
    (e: unknown) => isEarshotError(e, 'CONFIG_INVALID') && /\/other/.test(e.message),
  );
});

test('dataset: unreadable files are skipped and listed; an empty class folder and a lone class without background name the folder', async () => {
  const root = mkdtempSync(join(tmpdir(), 'earshot-learn-ds-'));
  try {
    mkdirSync(join(root, 'bell'));
    mkdirSync(join(root, 'knock'));
    writeWav(join(root, 'bell', '1.wav'), toneInNoise(2, 0.5, 0.5));
    writeFileSync(join(root, 'bell', 'broken.wav'), 'RIFF....not audio');
    writeWav(join(root, 'knock', '1.wav'), toneInNoise(2, 1, 0.3, 2));
    const ds = await readDataset(root, RATE);
    assert.deepEqual(
      ds.classes.map((c) => [c.name, c.recordings.length]),
      [
        ['bell', 1],
        ['knock', 1],
      ],
    );
    assert.deepEqual(
      ds.skipped.map((s) => s.path),
      [join(root, 'bell', 'broken.wav')],
    );

    mkdirSync(join(root, 'empty'));
    writeFileSync(join(root, 'empty', 'x.mp3'), 'nope');
    await assert.rejects(readDataset(root, RATE), (e: unknown) => isEarshotError(e, 'INPUT_INVALID') && e.message.includes(join(root, 'empty')) && e.details.folder === join(root, 'empty'));
    rmSync(join(root, 'empty'), { recursive: true });
    rmSync(join(root, 'knock'), { recursive: true });
    await assert.rejects(readDataset(root, RATE), (e: unknown) => isEarshotError(e, 'INPUT_INVALID') && e.message.includes(join(root, 'background')) && e.details.folder === root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
