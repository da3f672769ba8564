import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import pg from 'pg';

import type { HistoryStore } from '../../src/history/contracts.js';
import { PostgresHistoryStore } from '../../src/history/postgres.js';
import { PG_SCHEMA_VERSION } from '../../src/history/postgres-schema.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { SHIPPED_ONTOLOGY_PATH } from '../../src/server/ontology.js';
import { runCli } from '../helpers/cli.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';
import { DOG, ev, eventsAndKeywords, putFileReplaces, retentionByAge, seg, similarity } from './store-scenarios.js';

let server: PostgresServer;
test.before(async () => {
  server = await startPostgres();
});
test.after(() => server.stop());

const sqlite = (t: { after: (fn: () => void) => void }): HistoryStore => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-history-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return new SqliteHistoryStore(join(dir, 'h.sqlite'));
};
const postgres = async (): Promise<PostgresHistoryStore> => new PostgresHistoryStore(await server.database());

for (const [name, scenario] of [
  ['events upsert, keyword search, cursor paging, sources', eventsAndKeywords],
  ['similarity over int8 embeddings, query file left out', similarity],
  ['putFile replaces a file and records size, mtime, hash', putFileReplaces],
] as const) {
  test(`sqlite: ${name}`, (t) => scenario(sqlite(t)));
  test(`postgres: ${name}`, async () => scenario(await postgres()));
}

test('postgres: versioned migrations run once, also when two processes start together', async () => {
  const url = await server.database();
  const [a, b] = [new PostgresHistoryStore(url), new PostgresHistoryStore(url)];
  await Promise.all([a.events({ limit: 1 }), b.events({ limit: 1 })]);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  assert.deepEqual(
    (await c.query('SELECT version FROM schema_migrations ORDER BY version')).rows.map((r) => r.version),
    Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1),
  );
  await c.end();
  await Promise.all([a.close(), b.close()]);
});

test('postgres: live rows go to day partitions, retention drops whole partitions and keeps the archive', async () => {
  const url = await server.database();
  const now = Date.UTC(2026, 11, 2, 12);
  await retentionByAge(new PostgresHistoryStore(url, { nowMs: () => now }), now);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const parts = (await c.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'segments'::regclass ORDER BY 1`)).rows.map((r) => r.relname);
  // The 40-day-old day partition is gone (dropped, not emptied); today's and the archive remain.
  assert.deepEqual(parts, ['segments_archive', 'segments_d20261202']);
  await c.end();

  // Size retention: the oldest days go first, the newest stays.
  const store = new PostgresHistoryStore(await server.database(), { nowMs: () => now });
  const day = 86_400_000;
  for (let d = 5; d >= 0; d--)
    await store.write({ segments: Array.from({ length: 50 }, (_, i) => seg('mic', i, [{ ...DOG, score: 0.5 }], new Float32Array(1024).fill(d + 1), 'source', now - d * day)), events: [] });
  const r = await store.retain({ nowMs: now, maxAgeMs: 0, maxBytes: 1 });
  assert.equal(r.deletedSegments, 250);
  assert.ok(r.bytesAfter < r.bytesBefore);
  assert.equal((await store.sources())[0]!.segments, 50);
  await store.close();
});

test('postgres: a redelivered batch changes nothing (events by id, live segments by stream+time), a late start never reopens an event', async () => {
  const store = await postgres();
  const site = { kind: 'source' as const, name: 'mic', site: 'farm-1' };
  const batch = { segments: [{ ...seg('mic', 0, [{ ...DOG, score: 0.5 }]), stream: site }], events: [{ ...ev('run/e1', 'mic', 1_000_000, 2), stream: site }] };
  await store.write(batch);
  await store.write(batch);
  await store.write({ segments: [], events: [{ ...ev('run/e1', 'mic', 1_000_000, null, DOG, 0.3), stream: site }] });
  const evs = (await store.events({ limit: 10 })).events;
  assert.equal(evs.length, 1);
  assert.equal(evs[0]!.endSeconds, 2);
  assert.equal(evs[0]!.peakScore, 0.8);
  assert.equal(evs[0]!.stream.site, 'farm-1');
  assert.equal((await store.searchLabels({ labelIds: [DOG.labelId], minScore: 0, limit: 10 })).length, 1);
  // The same source id at another site is another stream; `site/source` filters one.
  await store.write({ segments: [], events: [{ ...ev('run/e2', 'mic', 1_000_000, 2), stream: { ...site, site: 'farm-2' } }] });
  assert.deepEqual(
    (await store.events({ limit: 10, source: 'farm-2/mic' })).events.map((e) => e.id),
    ['run/e2'],
  );
  assert.equal((await store.events({ limit: 10, source: 'mic' })).events.length, 2);
  assert.deepEqual([...(await store.eventIds(['run/e1', 'nope']))], ['run/e1']);
  await store.close();
});

test('postgres: an unreachable server is a typed HISTORY_FAILED naming the URL without its password', async () => {
  const store = new PostgresHistoryStore('postgres://u:secret@127.0.0.1:1/x');
  await assert.rejects(store.events({ limit: 1 }), (e: Error & { code?: string }) => e.code === 'HISTORY_FAILED' && e.message.includes('u:***@127.0.0.1:1') && !e.message.includes('secret'));
  await store.close();
});

test("postgres: `earshot events|search --db postgres://…` read the shared store, with each event's site", async () => {
  const url = await server.database();
  const store = new PostgresHistoryStore(url);
  const at = { kind: 'source' as const, name: 'mic', site: 'farm-1' };
  await store.write({ segments: [{ ...seg('mic', 0, [{ ...DOG, score: 0.7 }]), stream: at }], events: [{ ...ev('run/e1', 'mic', 1_000_000, 2, DOG), stream: at }] });
  await store.close();
  const events = await runCli(['events', '--db', url, '--json']);
  assert.equal(events.code, 0, events.stderr);
  const line = JSON.parse(events.stdout.trim()) as Record<string, unknown>;
  assert.deepEqual([line.id, line.source, line.site, line.label], ['run/e1', 'mic', 'farm-1', 'Dog']);
  const search = await runCli(['search', '--db', url, '--json', '--source', 'farm-1/mic', 'dog'], { env: { EARSHOT__MODELS__ONTOLOGYPATH: SHIPPED_ONTOLOGY_PATH } });
  assert.equal(search.code, 0, search.stderr);
  const hits = search.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((h) => h.type !== 'query');
  assert.deepEqual(
    hits.map((h) => [h.site, h.label]),
    [['farm-1', 'Dog']],
  );
});
