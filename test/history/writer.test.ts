import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import Database from 'better-sqlite3';
import { Registry } from 'prom-client';

import type { SegmentRecord } from '../../src/history/contracts.js';
import { quantize } from '../../src/history/embedding.js';
import { createHistoryMetrics } from '../../src/history/metrics.js';
import { WorkerSink } from '../../src/history/worker-client.js';
import { HistoryWriter } from '../../src/history/writer.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-writer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const emb = quantize(Float32Array.from({ length: 1024 }, (_, i) => Math.cos(i)));
const seg = (i: number): SegmentRecord => ({
  stream: { kind: 'source', name: 'mic' },
  startSeconds: i,
  endSeconds: i + 0.96,
  wallMs: 1000 * i,
  model: 'yamnet',
  top: [{ labelId: '/m/09x0r', label: 'Speech', score: 0.5 }],
  embedding: emb,
});

async function metric(reg: Registry, name: string): Promise<number> {
  const m = (await reg.getMetricsAsJSON()).find((x) => x.name === name);
  return (m?.values ?? []).reduce((a, v) => a + v.value, 0);
}

function count(path: string, table: string): number {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

test('writer thread: records commit within flushSeconds, stop commits everything accepted', async (t) => {
  const path = join(tmp(t), 'h.sqlite');
  const reg = new Registry();
  const metrics = createHistoryMetrics(reg);
  const w = new HistoryWriter(new WorkerSink(path), { queueMaxRecords: 10_000, batchMaxRecords: 100, flushSeconds: 0.05, retrySeconds: 0.05, metrics, log: () => undefined });
  for (let i = 0; i < 250; i++) w.addSegment(seg(i));
  // Committed without stop(): wait until the writer has drained (the metric says so).
  while ((await metric(reg, 'earshot_history_written_total')) < 250) await new Promise((r) => setTimeout(r, 20));
  assert.equal(count(path, 'segments'), 250);
  for (let i = 0; i < 30; i++) w.addSegment(seg(1000 + i));
  w.addEvent({
    id: 'r/mic:0:1',
    stream: { kind: 'source', name: 'mic' },
    label: 'Speech',
    labelId: '/m/09x0r',
    startSeconds: 1,
    endSeconds: 2,
    peakScore: 0.9,
    meanScore: 0.7,
    model: 'yamnet',
    wallStartMs: 5,
  });
  await w.stop();
  assert.equal(count(path, 'segments'), 280);
  assert.equal(count(path, 'events'), 1);
  assert.equal(await metric(reg, 'earshot_history_dropped_total'), 0);
});

test('a full queue drops the oldest segments (counted), never blocks, and keeps events', async (t) => {
  const path = join(tmp(t), 'h.sqlite');
  const reg = new Registry();
  const metrics = createHistoryMetrics(reg);
  // A long flush interval: everything below stays queued until stop().
  const w = new HistoryWriter(new WorkerSink(path), { queueMaxRecords: 50, batchMaxRecords: 1000, flushSeconds: 60, retrySeconds: 1, metrics, log: () => undefined });
  w.addEvent({
    id: 'r/mic:0:1',
    stream: { kind: 'source', name: 'mic' },
    label: 'Speech',
    labelId: '/m/09x0r',
    startSeconds: 0,
    endSeconds: null,
    peakScore: 0.9,
    meanScore: 0.9,
    model: 'yamnet',
    wallStartMs: 5,
  });
  for (let i = 0; i < 120; i++) w.addSegment(seg(i));
  assert.equal(w.queued, 50);
  assert.equal(await metric(reg, 'earshot_history_dropped_total'), 71);
  await w.stop();
  assert.equal(count(path, 'events'), 1);
  assert.equal(count(path, 'segments'), 49);
  const db = new Database(path, { readonly: true });
  assert.equal((db.prepare('SELECT min(start_s) AS s FROM segments').get() as { s: number }).s, 71, 'the oldest went first');
  db.close();
});

test('a full database is a typed HISTORY_FULL error, counted and retried; the writer never throws to its caller', async (t) => {
  const path = join(tmp(t), 'h.sqlite');
  const reg = new Registry();
  const metrics = createHistoryMetrics(reg);
  const logs: string[] = [];
  // 64 pages of 4 KiB: the schema fits, a few hundred 1 KiB embeddings do not.
  const w = new HistoryWriter(new WorkerSink(path, { maxPageCount: 64 }), { queueMaxRecords: 1000, batchMaxRecords: 500, flushSeconds: 0.02, retrySeconds: 0.05, metrics, log: (l) => logs.push(l) });
  for (let i = 0; i < 400; i++) w.addSegment(seg(i));
  while ((await metric(reg, 'earshot_history_write_errors_total')) < 2) await new Promise((r) => setTimeout(r, 20));
  const errs = (await reg.getMetricsAsJSON()).find((x) => x.name === 'earshot_history_write_errors_total')!.values;
  assert.deepEqual(
    errs.map((v) => v.labels.code),
    ['HISTORY_FULL'],
  );
  assert.equal(logs.filter((l) => l.includes('[HISTORY_FULL]')).length, 1, 'logged once per failure streak, not per retry');
  assert.match(logs[0]!, /disk or database full/);
  w.addSegment(seg(999));
  await w.stop(1);
  assert.ok(logs.some((l) => /records could not be written before stopping/.test(l)));
  const db = new Database(path, { readonly: true });
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  db.close();
});
