import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createHead } from '../../src/classify/head.js';
import { initParams, type NetSpec } from '../../src/classify/net.js';
import { classifierSession, EmbeddingWindow } from '../../src/classify/window.js';
import { isEarshotError } from '../../src/errors.js';
import { dequantize } from '../../src/train/data.js';
import { packClips } from '../../src/train/datasets/index.js';
import { Rng } from '../../src/train/rng.js';

const spec: NetSpec = { modelType: 'decision_level_multi_attention', timeSteps: 10, inputDim: 128, hidden: 24, classes: 527 };

test('a short window is padded exactly like a short training clip (loadClips/packClips)', async () => {
  const rng = new Rng(4);
  const head = createHead(
    spec,
    initParams(spec, () => rng.next()),
  );
  const secs = 4;
  const emb = new Uint8Array(secs * 128).map(() => rng.int(256));
  const packed = packClips([{ videoId: 'v', startSeconds: 0, labels: [0], embeddings: emb, seconds: secs }]);
  const expected = await head.predict(dequantize(packed.x), 1);
  const session = classifierSession(head);
  let last: Float32Array = new Float32Array();
  for (let t = 0; t < secs; t++) last = await session.score(emb.subarray(t * 128, (t + 1) * 128));
  assert.deepEqual(last, expected);
});

test('the window keeps only the last T embeddings, oldest first', () => {
  const w = new EmbeddingWindow(3, 2);
  for (let i = 0; i < 5; i++) w.push([i * 10, 128]);
  assert.equal(w.size, 3);
  assert.deepEqual(
    Array.from(w.input()),
    [20, 128, 30, 128, 40, 128].map((q) => (q - 128) / 128),
  );
  assert.throws(
    () => w.push([1, 2, 3]),
    (e) => isEarshotError(e, 'MODEL_SHAPE_MISMATCH'),
  );
  assert.throws(
    () => w.push([300, 0]),
    (e) => isEarshotError(e, 'INPUT_INVALID') && /300/.test(e.message),
  );
});
