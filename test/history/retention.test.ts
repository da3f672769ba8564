import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import type { SegmentRecord } from '../../src/history/contracts.js';
import { quantize } from '../../src/history/embedding.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { rng } from '../helpers/rng.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-retention-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const r = rng(3);
const seg = (name: string, i: number, kind: 'source' | 'file' = 'source'): SegmentRecord => ({
  stream: { kind, name },
  startSeconds: i,
  endSeconds: i + 0.96,
  wallMs: kind === 'source' ? i * 1000 : null,
  model: 'yamnet',
  top: [
    { labelId: '/m/09x0r', label: 'Speech', score: r() },
    { labelId: '/m/0bt9lr', label: 'Dog', score: r() },
  ],
  embedding: quantize(Float32Array.from({ length: 1024 }, () => r() - 0.5)),
});

const onDisk = (path: string) => statSync(path).size + statSync(`${path}-wal`, { throwIfNoEntry: false })?.size!;

test('retention by age deletes old live rows and keeps the indexed archive', async (t) => {
  let now = 1_000_000;
  const store = new SqliteHistoryStore(join(tmp(t), 'h.sqlite'), { nowMs: () => now });
  await store.write({
    segments: [seg('mic', 0), seg('mic', 1)],
    events: [{ id: 'a', stream: { kind: 'source', name: 'mic' }, label: 'Dog', labelId: '/m/0bt9lr', startSeconds: 0, endSeconds: 1, peakScore: 1, meanScore: 1, model: 'y', wallStartMs: 0 }],
  });
  await store.putFile({ path: '/a.wav', sizeBytes: 1, mtimeMs: 1, sha256: 'x', durationSeconds: 1, model: 'y' }, { segments: [seg('/a.wav', 0, 'file')], events: [] });
  now += 86_400_000;
  await store.write({ segments: [seg('mic', 2)], events: [] });
  const res = await store.retain({ nowMs: now, maxAgeMs: 3_600_000, maxBytes: 0 });
  assert.deepEqual([res.deletedSegments, res.deletedEvents], [2, 1]);
  const left = await store.sources();
  assert.deepEqual(
    left.map((s) => [s.stream.name, s.segments, s.events]),
    [
      ['mic', 1, 0],
      ['/a.wav', 1, 0],
    ],
  );
  // Labels of deleted segments are gone too (search finds only what is left).
  const hits = await store.searchLabels({ labelIds: ['/m/09x0r'], minScore: 0, limit: 10 });
  assert.deepEqual(hits.map((h) => h.stream.name).sort(), ['/a.wav', 'mic']);
  assert.equal(store.handle.pragma('integrity_check', { simple: true }), 'ok');
  await store.close();
});

test('retention by size: the file stops growing under a steady stream of writes', async (t) => {
  const path = join(tmp(t), 'h.sqlite');
  let now = 0;
  const store = new SqliteHistoryStore(path, { nowMs: () => now });
  const maxBytes = 2 * 1024 * 1024;
  const sizes: number[] = [];
  let i = 0;
  for (let round = 0; round < 12; round++) {
    // ~1.2 MB of segments per round: the file would reach ~14 MB without retention.
    const segments: SegmentRecord[] = [];
    for (let k = 0; k < 1000; k++) segments.push(seg('mic', i++));
    now += 1000;
    await store.write({ segments, events: [] });
    const res = await store.retain({ nowMs: now, maxAgeMs: 0, maxBytes });
    assert.ok(res.bytesAfter <= maxBytes, `round ${round}: ${res.bytesAfter} bytes after retention`);
    sizes.push(onDisk(path));
  }
  // After the first rounds fill the budget, the on-disk size (db + WAL) stays flat.
  const late = sizes.slice(4);
  assert.ok(Math.max(...late) <= Math.min(...late) * 1.5 + 256 * 1024, `sizes ${sizes.join(', ')}`);
  assert.ok(Math.max(...sizes) < 6 * 1024 * 1024, `sizes ${sizes.join(', ')}`);
  // The newest rows are the ones kept.
  const newest = store.handle.prepare('SELECT max(start_s) AS s, count(*) AS n FROM segments').get() as { s: number; n: number };
  assert.equal(newest.s, i - 1);
  assert.ok(newest.n > 500 && newest.n < 2000, `${newest.n} segments kept`);
  assert.equal(store.handle.pragma('integrity_check', { simple: true }), 'ok');
  await store.close();
});
