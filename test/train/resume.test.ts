import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { defaultBlas } from '../../src/classify/blas.js';
import { isEarshotError } from '../../src/errors.js';
import { localStorage } from '../../src/storage/index.js';
import { decodeCheckpoint, encodeCheckpoint, loadLatestCheckpoint } from '../../src/train/checkpoint.js';
import { Rng } from '../../src/train/rng.js';
import { type Dataset, train, type TrainOptions } from '../../src/train/trainer.js';

function dataset(count: number, classes: number): Dataset {
  const r = new Rng(3);
  const x = new Uint8Array(count * 10 * 8).map(() => r.int(256));
  const y = new Uint8Array(count * classes);
  for (let i = 0; i < count; i++) y[i * classes + (i % classes)] = 1;
  for (let i = 0; i < count; i += 3) y[i * classes + ((i + 1) % classes)] = 1;
  return { count, x, y };
}

function opts(dir: string, balance: TrainOptions['balance'], iterations: number, resume: boolean): TrainOptions {
  return {
    spec: { modelType: 'decision_level_multi_attention', timeSteps: 10, inputDim: 8, hidden: 12, classes: 5 },
    dropout: 0.5,
    batchSize: 16,
    learningRate: 1e-3,
    iterations,
    balance,
    seed: 42,
    evalEveryIterations: 1000,
    checkpointEveryIterations: 3,
    blas: defaultBlas(),
    checkpoints: localStorage(dir),
    resume,
  };
}

for (const balance of ['balance_in_batch', 'no_balance'] as const)
  test(`--resume continues exactly like an uninterrupted run (${balance})`, async () => {
    const base = mkdtempSync(join(tmpdir(), 'earshot-resume-'));
    try {
      const data = dataset(40, 5);
      const full = await train(data, opts(join(base, 'a'), balance, 8, false));
      const first = await train(data, opts(join(base, 'b'), balance, 4, false));
      assert.equal(first.iteration, 4);
      // A fresh process only has the checkpoint store: the latest checkpoint is iteration 4.
      const resumed = await train(data, opts(join(base, 'b'), balance, 8, true));
      assert.equal(resumed.iteration, 8);
      assert.deepEqual(
        resumed.history.map((h) => h.loss),
        full.history.map((h) => h.loss),
      );
      for (const [k, v] of full.params) assert.deepEqual(resumed.params.get(k), v, `parameter ${k}`);
      const saved = await loadLatestCheckpoint(localStorage(join(base, 'b')));
      assert.equal(saved?.iteration, 8);
      assert.equal(saved.adam.iterations, 8);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

test('resume refuses a checkpoint made with different settings; corrupt checkpoints are DATA_CORRUPT', async () => {
  const base = mkdtempSync(join(tmpdir(), 'earshot-resume-'));
  try {
    const data = dataset(40, 5);
    const st = await train(data, opts(base, 'balance_in_batch', 3, false));
    await assert.rejects(train(data, { ...opts(base, 'balance_in_batch', 6, true), seed: 7 }), (e) => isEarshotError(e, 'INPUT_INVALID') && /seed/.test(e.message));
    const blob = encodeCheckpoint(st);
    assert.deepEqual(decodeCheckpoint(blob, 'x').params.get('out.bias'), st.params.get('out.bias'));
    assert.throws(
      () => decodeCheckpoint(blob.subarray(0, blob.length - 5), 'cut.ckpt'),
      (e) => isEarshotError(e, 'DATA_CORRUPT') && /cut\.ckpt/.test(e.message),
    );
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('--resume after a crash continues exactly with mixup, cosine lr and the weights moving average', async () => {
  const base = mkdtempSync(join(tmpdir(), 'earshot-resume-mix-'));
  try {
    const data = dataset(40, 5);
    const extra = { mixupAlpha: 0.4, lrSchedule: 'cosine' as const, emaDecay: 0.9 };
    const full = await train(data, { ...opts(join(base, 'a'), 'balance_in_batch', 8, false), ...extra });
    // Crash at iteration 7: the latest checkpoint is iteration 6.
    const crash = {
      ...opts(join(base, 'b'), 'balance_in_batch', 8, false),
      ...extra,
      onStep: (p: { iteration: number }) => {
        if (p.iteration === 7) throw new Error('crash');
      },
    };
    await assert.rejects(train(data, crash), /crash/);
    const resumed = await train(data, { ...opts(join(base, 'b'), 'balance_in_batch', 8, true), ...extra });
    assert.deepEqual(
      resumed.history.map((h) => h.loss),
      full.history.map((h) => h.loss),
    );
    for (const [k, v] of full.ema!) assert.deepEqual(resumed.ema!.get(k), v, `moving average ${k}`);
    for (const [k, v] of full.params) assert.deepEqual(resumed.params.get(k), v, `parameter ${k}`);
    // Another schedule length is another run: refused, not silently mixed.
    await assert.rejects(train(data, { ...opts(join(base, 'b'), 'balance_in_batch', 12, true), ...extra }), /checkpoint .* was made with/);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});
