import assert from 'node:assert/strict';
import { test } from 'node:test';

import { decodeCheckpoint, encodeCheckpoint, type TrainState } from '../../src/train/checkpoint.js';
import { contentHash, relativeDataPath } from '../../src/train/data-ref.js';
import { beta, cloneParams, emaUpdate, mixupInPlace, scheduledLr } from '../../src/train/regularize.js';
import { trainingCurveSvg } from '../../src/train/report.js';
import { Rng } from '../../src/train/rng.js';
import { stratifiedHoldOut } from '../../src/train/split.js';
import { f1Threshold, f1Thresholds } from '../../src/train/thresholds.js';

/** Random multi-label data with a long tail of label frequencies, like AudioSet's. */
function randomLabels(seed: number, n: number, classes: number): Uint8Array {
  const r = new Rng(seed);
  const y = new Uint8Array(n * classes);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(Math.pow(r.next(), 2.5) * classes);
    y[i * classes + k] = 1;
    if (r.next() < 0.5) y[i * classes + r.int(classes)] = 1;
  }
  return y;
}

for (const seed of [1, 7, 99]) {
  test(`stratified hold-out: disjoint cover, ~10 % of every label, reproducible (data seed ${seed})`, () => {
    const n = 3000 + seed * 17;
    const C = 60;
    const y = randomLabels(seed, n, C);
    const h = stratifiedHoldOut(y, n, C, 0.1, 42);
    assert.equal(h.train.length + h.val.length, n);
    const seen = new Uint8Array(n);
    for (const i of [...h.train, ...h.val]) seen[i]!++;
    assert.ok(
      seen.every((v) => v === 1),
      'every clip in exactly one part',
    );
    assert.ok(Math.abs(h.val.length / n - 0.1) < 0.02, `val fraction ${h.val.length / n}`);
    const inVal = new Uint8Array(n);
    for (const i of h.val) inVal[i] = 1;
    for (let k = 0; k < C; k++) {
      let pos = 0;
      let v = 0;
      for (let i = 0; i < n; i++)
        if (y[i * C + k]) {
          pos++;
          v += inVal[i]!;
        }
      if (pos >= 2) assert.ok(v >= 1, `label ${k}: ${pos} positives, none held out`);
      if (pos >= 2) assert.ok(v < pos, `label ${k}: every positive held out`);
      if (pos >= 50) assert.ok(Math.abs(v / pos - 0.1) < 0.05, `label ${k}: ${v}/${pos} held out`);
    }
    assert.deepEqual(stratifiedHoldOut(y, n, C, 0.1, 42), h, 'same seed, same split');
    assert.notDeepEqual(stratifiedHoldOut(y, n, C, 0.1, 43).val, h.val, 'another seed, another split');
  });
}

test('stratified hold-out refuses a fraction outside (0, 1)', () => {
  assert.throws(() => stratifiedHoldOut(new Uint8Array(4), 2, 2, 0, 1), /fraction/);
  assert.throws(() => stratifiedHoldOut(new Uint8Array(4), 2, 2, 1, 1), /fraction/);
});

/** Brute force: the best F1 over every cut "score >= t" at a distinct score. */
function bruteF1(s: number[], p: boolean[]): number {
  let best = 0;
  for (const t of new Set(s)) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    s.forEach((v, i) => (v >= t ? (p[i] ? tp++ : fp++) : p[i] ? fn++ : 0));
    best = Math.max(best, (2 * tp) / (2 * tp + fp + fn));
  }
  return best;
}

for (const seed of [3, 4, 5, 6]) {
  test(`F1-optimal threshold matches a brute-force sweep and reaches that F1 (seed ${seed})`, () => {
    const r = new Rng(seed);
    const n = 50 + r.int(200);
    // Quantized scores make ties, which must be kept or dropped together.
    const p = Array.from({ length: n }, () => r.next() < 0.15);
    const s = p.map((pos) => Math.round((pos ? 0.3 + r.next() * 0.7 : r.next() * 0.7) * 40) / 40);
    if (!p.some(Boolean)) p[0] = true;
    const got = f1Threshold(s, p)!;
    const want = bruteF1(s, p);
    assert.ok(Math.abs(got.f1 - want) < 1e-12, `f1 ${got.f1} vs ${want}`);
    let tp = 0;
    let pp = 0;
    s.forEach((v, i) => {
      if (v >= got.threshold) {
        pp++;
        if (p[i]) tp++;
      }
    });
    const P = p.filter(Boolean).length;
    assert.ok(Math.abs((2 * tp) / (pp + P) - want) < 1e-12, 'the stored threshold gives the stored F1');
  });
}

test('thresholds file: one entry per class, null where the split has no positive', () => {
  const probs = Float32Array.from([0.9, 0.1, 0.2, 0.1, 0.8, 0.3]);
  const y = Uint8Array.from([1, 0, 0, 0, 1, 0]);
  const t = f1Thresholds(probs, y, 3, 2, [
    { index: 0, id: '/m/a', name: 'A' },
    { index: 1, id: '/m/b', name: 'B' },
  ]);
  assert.equal(t.classes.length, 2);
  assert.ok(t.classes[0]!.threshold! > 0.2 && t.classes[0]!.threshold! <= 0.8);
  assert.equal(t.classes[0]!.f1, 1);
  assert.equal(t.classes[1]!.threshold, null);
});

test('mixup: each row is a convex combination of two batch rows with the same weight for x and y', () => {
  const r = new Rng(5);
  const n = 64;
  const D = 12;
  const C = 5;
  const x = Float32Array.from({ length: n * D }, () => r.next() * 2 - 1);
  const y = Float32Array.from({ length: n * C }, () => (r.next() < 0.3 ? 1 : 0));
  const x0 = Float32Array.from(x);
  const y0 = Float32Array.from(y);
  mixupInPlace(x, y, n, 0.4, new Rng(9));
  let mixed = 0;
  for (let i = 0; i < n; i++) {
    // Find the partner j and weight lam that explain row i of x; y must follow with the same lam.
    let ok = false;
    for (let j = 0; j < n && !ok; j++) {
      const a = x0[i * D]! - x0[j * D]!;
      const lam = j === i || Math.abs(a) < 1e-6 ? 1 : (x[i * D]! - x0[j * D]!) / a;
      if (lam < -1e-4 || lam > 1 + 1e-4) continue;
      const fits = (arr: Float32Array, a0: Float32Array, w: number): boolean => {
        for (let k = 0; k < w; k++) if (Math.abs(arr[i * w + k]! - (lam * a0[i * w + k]! + (1 - lam) * a0[j * w + k]!)) > 1e-4) return false;
        return true;
      };
      ok = fits(x, x0, D) && fits(y, y0, C);
      if (ok && j !== i && lam < 0.999) mixed++;
    }
    assert.ok(ok, `row ${i} is not a mix of two rows`);
  }
  assert.ok(mixed > n / 2, `only ${mixed} rows mixed`);
});

test('Beta(a, a) samples have mean 1/2 and variance 1/(4(2a+1))', () => {
  for (const a of [0.2, 0.4, 1, 3]) {
    const r = new Rng(11);
    const s = Array.from({ length: 20000 }, () => beta(r, a));
    const m = s.reduce((p, v) => p + v, 0) / s.length;
    const v = s.reduce((p, x) => p + (x - m) ** 2, 0) / s.length;
    assert.ok(s.every((x) => x >= 0 && x <= 1));
    assert.ok(Math.abs(m - 0.5) < 0.01, `a ${a}: mean ${m}`);
    assert.ok(Math.abs(v - 1 / (4 * (2 * a + 1))) < 0.006, `a ${a}: var ${v}`);
  }
});

test('cosine schedule: full lr first, 1 % at the end, monotone; constant stays', () => {
  assert.equal(scheduledLr(1e-3, 'cosine', 1, 100), 1e-3);
  assert.ok(Math.abs(scheduledLr(1e-3, 'cosine', 100, 100) - 1e-5) < 1e-12);
  for (let i = 2; i <= 100; i++) assert.ok(scheduledLr(1e-3, 'cosine', i, 100) < scheduledLr(1e-3, 'cosine', i - 1, 100));
  assert.equal(scheduledLr(1e-3, 'constant', 77, 100), 1e-3);
});

test('EMA of weights converges to constant weights and lags a moving one', () => {
  const p = new Map([['w', Float32Array.from([1, 2])]]);
  const e = cloneParams(new Map([['w', Float32Array.from([0, 0])]]));
  for (let t = 1; t <= 3000; t++) emaUpdate(e, p, 0.99, t);
  assert.ok(Math.abs(e.get('w')![1]! - 2) < 1e-4);
  p.get('w')![0] = 11;
  emaUpdate(e, p, 0.99, 3001);
  assert.ok(Math.abs(e.get('w')![0]! - 1.1) < 1e-4);
});

test('checkpoint keeps the moving average and the mixup stream', () => {
  const params = new Map([['a', Float32Array.from([1, 2, 3])]]);
  const st: TrainState = {
    spec: { modelType: 'decision_level_max_pooling', timeSteps: 10, inputDim: 128, hidden: 4, classes: 2 },
    iteration: 3,
    params,
    adam: { iterations: 3, m: cloneParams(params), v: cloneParams(params) },
    sampler: { kind: 'vanilla', order: [], pointer: 0, rng: [1, 2, 3, 4] } as unknown as TrainState['sampler'],
    dropoutRng: [1, 2, 3, 4],
    mixupRng: [5, 6, 7, 8],
    ema: new Map([['a', Float32Array.from([0.5, 0.25, 0.125])]]),
    history: [{ iteration: 3, loss: 0.1, valMAP: 0.2, valMAPEma: 0.3 }],
    run: {},
  };
  const back = decodeCheckpoint(encodeCheckpoint(st), 'mem');
  assert.deepEqual(back.mixupRng, [5, 6, 7, 8]);
  assert.deepEqual(Array.from(back.ema!.get('a')!), [0.5, 0.25, 0.125]);
  assert.deepEqual(back.history, st.history);
});

test('data references: relative to the data root, hashed by content not location', () => {
  assert.equal(relativeDataPath('file:///home/someone/shared/data/audioset/features/bal_train'), 'features/bal_train');
  assert.equal(relativeDataPath('s3://bucket/audioset/features/eval/'), 'features/eval');
  assert.equal(relativeDataPath('/x/y/mydata'), 'mydata');
  const x = Uint8Array.from([1, 2, 3]);
  const y = Uint8Array.from([0, 1]);
  assert.equal(contentHash(['a'], y, x), contentHash(['a'], Uint8Array.from(y), Uint8Array.from(x)));
  assert.notEqual(contentHash(['a'], y, x), contentHash(['b'], y, x));
  assert.notEqual(contentHash(['a'], y, x), contentHash(['a'], y, Uint8Array.from([1, 2, 4])));
});

test('training curve draws the moving-average weights beside the raw ones when the run kept them', () => {
  const h = Array.from({ length: 20 }, (_, i) => ({ iteration: i + 1, loss: 1 / (i + 1), ...(i % 5 === 4 ? { valMAP: i / 40, valMAPEma: i / 45 } : {}) }));
  const svg = trainingCurveSvg(h);
  assert.match(svg, /moving-average weights \(green, dashed\)/);
  assert.equal((svg.match(/stroke="#2ca02c"/g) ?? []).length, 1);
  assert.doesNotMatch(trainingCurveSvg(h.map(({ valMAPEma: _e, ...r }) => r)), /#2ca02c/);
});
