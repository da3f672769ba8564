import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Rng } from '../../src/train/rng.js';
import { balancedSampler, vanillaSampler } from '../../src/train/sampler.js';

// 3 classes with very different frequencies (class 2: only 3 clips), class 3 without clips.
function labels(): { y: Uint8Array; count: number; classes: number } {
  const count = 60;
  const classes = 4;
  const y = new Uint8Array(count * classes);
  for (let i = 0; i < count; i++) {
    y[i * classes + (i % 20 === 7 ? 2 : i < 45 ? 0 : 1)] = 1;
  }
  return { y, count, classes };
}

test('balanced sampler: classes get equal slots per round, each class cycles through all its clips', () => {
  const { y, classes } = labels();
  const s = balancedSampler(y, classes, 6, 1);
  const perClassDraws: number[][] = [[], [], []];
  for (let b = 0; b < 30; b++) {
    const batch = s.next();
    // 6 slots over 3 non-empty classes: 2 each; as in the seed a class whose list runs out mid-batch serves fewer (no wrap).
    assert.ok(batch.length <= 6 && batch.length >= 3, `batch ${b} has ${batch.length}`);
    for (const i of batch) for (let k = 0; k < 3; k++) if (y[i * classes + k]) perClassDraws[k]!.push(i);
  }
  // Class 2 has 3 clips: every consecutive 3 draws (one pass) covers them all once.
  const c2 = perClassDraws[2]!;
  for (let p = 0; p + 3 <= c2.length; p += 3)
    assert.deepEqual(
      [...c2.slice(p, p + 3)].sort((a, b) => a - b),
      [7, 27, 47],
    );
  // The rare class is drawn far above its 5% share.
  assert.ok(c2.length >= 40, `rare class drawn ${c2.length} times`);
});

test('sampler state round-trips: a resumed sampler yields the same batches', () => {
  const { y, count, classes } = labels();
  for (const make of [(st?: Parameters<typeof vanillaSampler>[3]) => vanillaSampler(count, 7, 3, st), (st?: Parameters<typeof balancedSampler>[4]) => balancedSampler(y, classes, 7, 3, st)]) {
    const a = make();
    for (let i = 0; i < 5; i++) a.next();
    const b = make(JSON.parse(JSON.stringify(a.state())));
    for (let i = 0; i < 20; i++) assert.deepEqual(b.next(), a.next());
  }
});

test('vanilla sampler: every clip once per epoch', () => {
  const s = vanillaSampler(20, 5, 9);
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) seen.push(...s.next());
  assert.deepEqual(
    seen.sort((a, b) => a - b),
    Array.from({ length: 20 }, (_, i) => i),
  );
});

test('Rng: deterministic, uniform enough, resumable', () => {
  const a = new Rng(5);
  const b = new Rng(5);
  for (let i = 0; i < 100; i++) assert.equal(a.nextU32(), b.nextU32());
  const c = new Rng(a.state());
  assert.equal(c.next(), a.next());
  let sum = 0;
  for (let i = 0; i < 100000; i++) sum += a.next();
  assert.ok(Math.abs(sum / 100000 - 0.5) < 0.01);
});
