import assert from 'node:assert/strict';
import { test } from 'node:test';

import { topK } from '../../src/classify/top-k.js';
import { rng } from '../helpers/rng.js';

test('topK: best first, ties in index order, minScore and mask filter, k <= 0 and k > n', () => {
  const s = Float32Array.from([0.2, 0.9, 0.5, 0.9, 0.1, 0.5]);
  assert.deepEqual(topK(s, 3), [1, 3, 2]);
  assert.deepEqual(topK(s, 10), [1, 3, 2, 5, 0, 4]);
  assert.deepEqual(topK(s, 0), []);
  assert.deepEqual(topK(s, 4, 0.5), [1, 3, 2, 5]);
  assert.deepEqual(topK(s, 2, 0, Uint8Array.from([1, 0, 1, 1, 1, 1])), [3, 2]);
});

test('topK equals a full stable sort on random rows', () => {
  const r = rng(5);
  for (let n = 0; n < 200; n++) {
    const s = Float32Array.from({ length: 1 + (n % 40) }, () => Math.round(r() * 20) / 20);
    const k = 1 + (n % 7);
    const sorted = Array.from(s.keys())
      .sort((a, b) => s[b]! - s[a]! || a - b)
      .slice(0, k);
    assert.deepEqual(topK(s, k), sorted);
  }
});
