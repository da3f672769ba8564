import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import Database from 'better-sqlite3';

import { loadConfig } from '../../src/config/load.js';
import type { SegmentRecord } from '../../src/history/contracts.js';
import { quantize } from '../../src/history/embedding.js';
import { historyPathOf } from '../../src/history/paths.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { SCHEMA_VERSION } from '../../src/history/sqlite-schema.js';
import { rng } from '../helpers/rng.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const DOG = { labelId: '/m/0bt9lr', label: 'Dog' };
const BARK = { labelId: '/m/05tny_', label: 'Bark' };
const SPEECH = { labelId: '/m/09x0r', label: 'Speech' };

function seg(name: string, t: number, top: { labelId: string; label: string; score: number }[], emb?: Float32Array, kind: 'source' | 'file' = 'source'): SegmentRecord {
  return { stream: { kind, name }, startSeconds: t, endSeconds: t + 0.96, wallMs: kind === 'source' ? 1_000_000 + t * 1000 : null, model: 'yamnet', top, ...(emb ? { embedding: quantize(emb) } : {}) };
}

test('a real SQLite file: migrations, events upsert, keyword search by label, cursor paging, reopen', async (t) => {
  const path = join(tmp(t), 'h', 'history.sqlite');
  const store = new SqliteHistoryStore(path);
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
    events: [
      {
        id: 'r1/kitchen:0:1',
        stream: { kind: 'source', name: 'kitchen' },
        label: 'Bark',
        labelId: BARK.labelId,
        startSeconds: 1,
        endSeconds: null,
        peakScore: 0.8,
        meanScore: 0.8,
        model: 'yamnet',
        wallStartMs: 1_001_000,
      },
    ],
  });
  // The event completes later: same id, now with an end.
  await store.write({
    segments: [],
    events: [
      {
        id: 'r1/kitchen:0:1',
        stream: { kind: 'source', name: 'kitchen' },
        label: 'Bark',
        labelId: BARK.labelId,
        startSeconds: 1,
        endSeconds: 2.5,
        peakScore: 0.85,
        meanScore: 0.7,
        model: 'yamnet',
        wallStartMs: 1_001_000,
      },
    ],
  });
  const hits = await store.searchLabels({ labelIds: [DOG.labelId, BARK.labelId], minScore: 0.2, limit: 10 });
  // kitchen@1 matches Dog 0.7 and Bark 0.8: listed once, with its best label.
  assert.deepEqual(
    hits.map((h) => [h.stream.name, h.startSeconds, h.label, Number(h.score.toFixed(2))]),
    [
      ['kitchen', 1, 'Bark', 0.8],
      ['door', 0, 'Bark', 0.6],
    ],
  );
  const bySource = await store.searchLabels({ labelIds: [BARK.labelId], minScore: 0, limit: 10, source: 'door' });
  assert.deepEqual(
    bySource.map((h) => h.stream.name),
    ['door'],
  );
  const ev = await store.events({ limit: 10 });
  assert.equal(ev.events.length, 1);
  assert.equal(ev.events[0]!.endSeconds, 2.5);
  assert.equal(ev.events[0]!.peakScore, 0.85);
  await store.close();

  const again = new SqliteHistoryStore(path);
  for (let i = 0; i < 5; i++) {
    await again.write({
      segments: [],
      events: [
        {
          id: `r2/door:0:${i}`,
          stream: { kind: 'source', name: 'door' },
          label: 'Speech',
          labelId: SPEECH.labelId,
          startSeconds: i,
          endSeconds: i + 1,
          peakScore: 0.9,
          meanScore: 0.6,
          model: 'yamnet',
          wallStartMs: 2_000_000 + i,
        },
      ],
    });
  }
  const p1 = await again.events({ limit: 4 });
  assert.equal(p1.events.length, 4);
  assert.ok(p1.nextCursor);
  const p2 = await again.events({ limit: 4, cursor: p1.nextCursor! });
  assert.deepEqual(
    [...p1.events, ...p2.events].map((e) => e.id),
    ['r2/door:0:4', 'r2/door:0:3', 'r2/door:0:2', 'r2/door:0:1', 'r2/door:0:0', 'r1/kitchen:0:1'],
  );
  assert.equal(p2.nextCursor, null);
  const speechOnly = await again.events({ limit: 10, labelIds: ['Speech'], source: 'door', sinceMs: 2_000_002 });
  assert.deepEqual(
    speechOnly.events.map((e) => e.id),
    ['r2/door:0:4', 'r2/door:0:3', 'r2/door:0:2'],
  );
  await again.close();

  const db = new Database(path, { readonly: true });
  assert.deepEqual(
    db.prepare('SELECT version FROM schema_migrations').all(),
    Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })),
  );
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
});

test('similarity over int8 embeddings finds the nearest segments and leaves the query file out', async (t) => {
  const store = new SqliteHistoryStore(join(tmp(t), 'h.sqlite'));
  const r = rng(7);
  const base = (k: number) => Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i * (k + 1) * 0.37) + (k === 0 ? 0 : 0));
  const noisy = (k: number) => base(k).map((v) => v + (r() - 0.5) * 0.3);
  const segments: SegmentRecord[] = [];
  for (let i = 0; i < 20; i++) segments.push(seg(`/a/${i % 4}.wav`, i, [], noisy(i % 4), 'file'));
  segments.push(seg('/q.wav', 0, [], noisy(2), 'file'));
  await store.write({ segments, events: [] });
  const hits = await store.similar({ embedding: quantize(base(2)), limit: 5, excludeStream: { kind: 'file', name: '/q.wav' } });
  assert.equal(hits.length, 5);
  assert.deepEqual([...new Set(hits.map((h) => h.stream.name))], ['/a/2.wav']);
  assert.ok(hits[0]!.similarity > 0.95 && hits[0]!.similarity <= 1.0001);
  const mean = await store.streamEmbedding({ kind: 'file', name: '/a/1.wav' });
  assert.equal(mean?.q.length, 1024);
  await store.close();
});

test("putFile replaces a file's rows and records size, mtime and hash", async (t) => {
  const store = new SqliteHistoryStore(join(tmp(t), 'h.sqlite'));
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
});

test('history path: --db wins, then history.path, then stateDir, $STATE_DIRECTORY, ~/.local/state', () => {
  const c = loadConfig({ env: {} });
  assert.equal(historyPathOf(c, { HOME: '/home/u' }), '/home/u/.local/state/earshot/history.sqlite');
  assert.equal(historyPathOf(c, { HOME: '/home/u', STATE_DIRECTORY: '/var/lib/earshot:/x' }), '/var/lib/earshot/history.sqlite');
  assert.equal(historyPathOf(loadConfig({ env: {}, overrides: { stateDir: '/s' } }), { STATE_DIRECTORY: '/v' }), '/s/history.sqlite');
  assert.equal(historyPathOf(loadConfig({ env: {}, overrides: { stateDir: '/s', history: { path: '/h.db' } } }), {}), '/h.db');
});
