import assert from 'node:assert/strict';
import { test } from 'node:test';

import { topK } from '../../src/server/protocol.js';
import { SubscriberQueue } from '../../src/server/queue.js';

test('drops the oldest scores/status when full, never an event', () => {
  const q = new SubscriberQueue(3);
  assert.equal(q.push({ data: 's1', droppable: true }), 'queued');
  assert.equal(q.push({ data: 'e1', droppable: false }), 'queued');
  assert.equal(q.push({ data: 's2', droppable: true }), 'queued');
  assert.equal(q.push({ data: 'e2', droppable: false }), 'dropped');
  assert.equal(q.push({ data: 's3', droppable: true }), 'dropped');
  const out: string[] = [];
  for (let m = q.shift(); m; m = q.shift()) out.push(m.data);
  assert.deepEqual(out, ['e1', 'e2', 's3']);
  assert.deepEqual(q.stats(), { queued: 0, dropped: 2, sent: 3 });
});

test('a queue full of events drops droppable newcomers and overflows on another event', () => {
  const q = new SubscriberQueue(2);
  q.push({ data: 'e1', droppable: false });
  q.push({ data: 'e2', droppable: false });
  assert.equal(q.push({ data: 's', droppable: true }), 'dropped');
  assert.equal(q.push({ data: 'e3', droppable: false }), 'overflow');
  assert.equal(q.stats().queued, 2);
  assert.equal(q.stats().dropped, 1);
});

test('topK: best first, masked, minScore', () => {
  const s = Float32Array.from([0.1, 0.9, 0.5, 0.7, 0.05, 0.8]);
  assert.deepEqual(topK(s, 3, 0), [1, 5, 3]);
  assert.deepEqual(topK(s, 10, 0.6), [1, 5, 3]);
  assert.deepEqual(topK(s, 2, 0, Uint8Array.from([1, 0, 1, 1, 0, 0])), [3, 2]);
  assert.deepEqual(topK(s, 1, 0.95), []);
});
