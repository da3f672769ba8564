import assert from 'node:assert/strict';
import { test } from 'node:test';

import { lastValueFrom, Subject, toArray } from 'rxjs';

import type { Patch } from '../../src/features/contracts.js';
import { tagPatches } from '../../src/pipeline/tag-operator.js';

const patch = (index: number): Patch => ({ data: new Float32Array(4), index, startSeconds: index * 0.48, frames: 2, bands: 2 });

test('a tagger slower than the source sheds the oldest waiting patches, keeps order, drains on completion', async () => {
  const pending: (() => void)[] = [];
  const session = {
    tag: (p: Patch) => new Promise<Float32Array>((resolve) => pending.push(() => resolve(Float32Array.of(p.index)))),
  };
  const dropped: number[] = [];
  const backlog: number[] = [];
  const input = new Subject<Patch>();
  const out = lastValueFrom(input.pipe(tagPatches(session, { maxBacklog: 3, nowMs: () => 0, onDrop: (p) => dropped.push(p.index), onBacklog: (n) => backlog.push(n) }), toArray()));
  for (let i = 0; i < 10; i++) input.next(patch(i)); // patch 0 is in flight, 1..9 arrive while it runs
  input.complete();
  while (pending.length) {
    pending.shift()!();
    await new Promise((r) => setImmediate(r));
  }
  const tagged = (await out).map((t) => t.patch.index);
  assert.deepEqual(tagged, [0, 7, 8, 9]);
  assert.deepEqual(dropped, [1, 2, 3, 4, 5, 6]);
  assert.ok(Math.max(...backlog) <= 4, 'waiting + in flight stays bounded');
  assert.equal(backlog.at(-1), 0);
});

test('a tagger failure errors the stream with the cause', async () => {
  const session = { tag: async () => Promise.reject(new Error('engine crashed')) };
  const input = new Subject<Patch>();
  const out = lastValueFrom(input.pipe(tagPatches(session, { maxBacklog: 3, nowMs: () => 0 })));
  input.next(patch(0));
  await assert.rejects(out, /engine crashed/);
});
