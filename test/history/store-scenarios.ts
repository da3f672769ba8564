import assert from 'node:assert/strict';

import type { EventRecord, HistoryStore, SegmentRecord } from '../../src/history/contracts.js';
import { quantize } from '../../src/history/embedding.js';
import { rng } from '../helpers/rng.js';

/** Backend-neutral store scenarios: each takes a fresh, empty store and closes it. */
export const DOG = { labelId: '/m/0bt9lr', label: 'Dog' };
export const BARK = { labelId: '/m/05tny_', label: 'Bark' };
export const SPEECH = { labelId: '/m/09x0r', label: 'Speech' };

export function seg(name: string, t: number, top: { labelId: string; label: string; score: number }[], emb?: Float32Array, kind: 'source' | 'file' = 'source', wallBase = 1_000_000): SegmentRecord {
  return { stream: { kind, name }, startSeconds: t, endSeconds: t + 0.96, wallMs: kind === 'source' ? wallBase + t * 1000 : null, model: 'yamnet', top, ...(emb ? { embedding: quantize(emb) } : {}) };
}

export function ev(id: string, name: string, wallStartMs: number, end: number | null, label = BARK, peak = 0.8): EventRecord {
  return { id, stream: { kind: 'source', name }, label: label.label, labelId: label.labelId, startSeconds: 1, endSeconds: end, peakScore: peak, meanScore: 0.7, model: 'yamnet', wallStartMs };
}

export async function eventsAndKeywords(store: HistoryStore): Promise<void> {
  await store.write({
    segments: [
      seg('kitchen', 0, [
        { ...SPEECH, score: 0.9 },
        { ...DOG, score: 0.1 },
      ]),
      seg('kitchen', 1, [
        { ...DOG, score: 0.7 },
        { ...BARK, score: 0.8 },
      ]),
      seg('door', 0, [{ ...BARK, score: 0.6 }]),
    ],
    events: [ev('r1/kitchen:0:1', 'kitchen', 1_001_000, null)],
  });
  // The event completes later: same id, now with an end.
  await store.write({ segments: [], events: [ev('r1/kitchen:0:1', 'kitchen', 1_001_000, 2.5, BARK, 0.85)] });
  const hits = await store.searchLabels({ labelIds: [DOG.labelId, BARK.labelId], minScore: 0.2, limit: 10 });
  assert.deepEqual(
    hits.map((h) => [h.stream.name, h.startSeconds, h.label, Number(h.score.toFixed(2))]),
    [
      ['kitchen', 1, 'Bark', 0.8],
      ['door', 0, 'Bark', 0.6],
    ],
  );
  assert.deepEqual(
    (await store.searchLabels({ labelIds: [BARK.labelId], minScore: 0, limit: 10, source: 'door' })).map((h) => h.stream.name),
    ['door'],
  );
  const one = await store.events({ limit: 10 });
  assert.equal(one.events.length, 1);
  assert.equal(one.events[0]!.endSeconds, 2.5);
  assert.equal(one.events[0]!.peakScore, 0.85);
  for (let i = 0; i < 5; i++) await store.write({ segments: [], events: [ev(`r2/door:0:${i}`, 'door', 2_000_000 + i, i + 1, SPEECH, 0.9)] });
  const p1 = await store.events({ limit: 4 });
  assert.ok(p1.nextCursor);
  const p2 = await store.events({ limit: 4, cursor: p1.nextCursor! });
  assert.deepEqual(
    [...p1.events, ...p2.events].map((e) => e.id),
    ['r2/door:0:4', 'r2/door:0:3', 'r2/door:0:2', 'r2/door:0:1', 'r2/door:0:0', 'r1/kitchen:0:1'],
  );
  assert.equal(p2.nextCursor, null);
  const speech = await store.events({ limit: 10, labelIds: ['Speech'], source: 'door', sinceMs: 2_000_002 });
  assert.deepEqual(
    speech.events.map((e) => e.id),
    ['r2/door:0:4', 'r2/door:0:3', 'r2/door:0:2'],
  );
  assert.equal((await store.event('r2/door:0:3'))?.endSeconds, 4);
  const src = await store.sources();
  assert.deepEqual(src.map((s) => [s.stream.name, s.segments, s.events]).sort(), [
    ['door', 1, 5],
    ['kitchen', 2, 1],
  ]);
  await store.close();
}

export async function similarity(store: HistoryStore): Promise<void> {
  const r = rng(7);
  const base = (k: number) => Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i * (k + 1) * 0.37));
  const noisy = (k: number) => base(k).map((v) => v + (r() - 0.5) * 0.3);
  const segments: SegmentRecord[] = [];
  for (let i = 0; i < 20; i++) segments.push(seg(`/a/${i % 4}.wav`, i, [], noisy(i % 4), 'file'));
  segments.push(seg('/q.wav', 0, [], noisy(2), 'file'));
  await store.write({ segments, events: [] });
  const hits = await store.similar({ embedding: quantize(base(2)), limit: 5, excludeStream: { kind: 'file', name: '/q.wav' } });
  assert.equal(hits.length, 5);
  assert.deepEqual([...new Set(hits.map((h) => h.stream.name))], ['/a/2.wav']);
  assert.ok(hits[0]!.similarity > 0.95 && hits[0]!.similarity <= 1.0001);
  // Rows written after the first search are found too (the matrix is extended).
  await store.write({ segments: [seg('/b.wav', 0, [], base(3), 'file')], events: [] });
  const again = await store.similar({ embedding: quantize(base(3)), limit: 1 });
  assert.equal(again[0]!.stream.name, '/b.wav');
  assert.equal((await store.streamEmbedding({ kind: 'file', name: '/a/1.wav' }))?.q.length, 1024);
  await store.close();
}

export async function putFileReplaces(store: HistoryStore): Promise<void> {
  const file = { path: '/x.wav', sizeBytes: 10, mtimeMs: 5, sha256: 'ab', durationSeconds: 2, model: 'yamnet' };
  await store.putFile(file, { segments: [seg('/x.wav', 0, [{ ...DOG, score: 0.5 }], undefined, 'file'), seg('/x.wav', 1, [{ ...DOG, score: 0.6 }], undefined, 'file')], events: [] });
  await store.putFile({ ...file, sha256: 'cd' }, { segments: [seg('/x.wav', 0, [{ ...DOG, score: 0.4 }], undefined, 'file')], events: [] });
  assert.deepEqual(await store.fileState('/x.wav'), { ...file, sha256: 'cd' });
  assert.deepEqual(
    (await store.searchLabels({ labelIds: [DOG.labelId], minScore: 0, limit: 10 })).map((h) => h.score.toFixed(1)),
    ['0.4'],
  );
  assert.equal(await store.fileState('/y.wav'), undefined);
  await store.close();
}

/** Age retention removes old live rows and keeps the indexed archive. */
export async function retentionByAge(store: HistoryStore, nowMs: number): Promise<void> {
  const day = 86_400_000;
  const old = nowMs - 40 * day;
  await store.write({
    segments: [seg('mic', 0, [{ ...DOG, score: 0.5 }], undefined, 'source', old), seg('mic', 0, [{ ...DOG, score: 0.6 }], undefined, 'source', nowMs - 1000)],
    events: [ev('old', 'mic', old, 1), ev('new', 'mic', nowMs - 1000, 1)],
  });
  await store.putFile(
    { path: '/f.wav', sizeBytes: 1, mtimeMs: 1, sha256: 'x', durationSeconds: 1, model: 'yamnet' },
    { segments: [seg('/f.wav', 0, [{ ...DOG, score: 0.7 }], undefined, 'file')], events: [] },
  );
  const r = await store.retain({ nowMs, maxAgeMs: 30 * day, maxBytes: 0 });
  assert.equal(r.deletedSegments, 1);
  assert.equal(r.deletedEvents, 1);
  assert.deepEqual(
    (await store.events({ limit: 10 })).events.map((e) => e.id),
    ['new'],
  );
  assert.deepEqual((await store.searchLabels({ labelIds: [DOG.labelId], minScore: 0, limit: 10 })).map((h) => h.stream.name).sort(), ['/f.wav', 'mic']);
  await store.close();
}
