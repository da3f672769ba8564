import assert from 'node:assert/strict';
import { test } from 'node:test';

import { defaultBlas } from '../../src/classify/blas.js';
import { Rng } from '../../src/train/rng.js';
import { type Dataset, train } from '../../src/train/trainer.js';

function dataset(count: number, classes: number, seed: number): Dataset {
  const r = new Rng(seed);
  const x = new Uint8Array(count * 10 * 8).map(() => r.int(256));
  const y = new Uint8Array(count * classes);
  for (let i = 0; i < count; i++) y[i * classes + (i % classes)] = 1;
  return { count, x, y };
}

// Issue #20 defect 6: `train --val … --iterations 30` (interval 500) logged "validating on N" and never validated.
for (const [iterations, evalEvery, want] of [
  [3, 500, [3]],
  [5, 2, [2, 4, 5]],
  [4, 2, [2, 4]],
] as const) {
  test(`validation runs at every interval and at the last iteration (${iterations} iterations, every ${evalEvery})`, async () => {
    const evals: number[] = [];
    const st = await train(dataset(40, 5, 1), {
      spec: { modelType: 'decision_level_multi_attention', timeSteps: 10, inputDim: 8, hidden: 12, classes: 5 },
      dropout: 0.5,
      batchSize: 8,
      learningRate: 1e-3,
      iterations,
      balance: 'no_balance',
      seed: 7,
      evalEveryIterations: evalEvery,
      checkpointEveryIterations: 1000,
      blas: defaultBlas(),
      val: dataset(20, 5, 2),
      onEval: (e) => {
        assert.ok(e.mAP > 0 && e.mAP <= 1, `mAP ${e.mAP}`);
        evals.push(e.iteration);
      },
    });
    assert.deepEqual(evals, want);
    assert.deepEqual(
      st.history.filter((h) => h.valMAP !== undefined).map((h) => h.iteration),
      want,
    );
  });
}
