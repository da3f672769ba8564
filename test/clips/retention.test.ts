import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { Registry } from 'prom-client';

import { createClipMetrics } from '../../src/clips/metrics.js';
import { ClipRetention, planSweep, type StoredClip } from '../../src/clips/retention.js';
import type { ClipRecord } from '../../src/history/contracts.js';
import { tempDir } from '../audio/tmp.js';

const DAY = 86_400_000;
const NOW = Date.parse('2026-12-02T12:00:00Z');

/** A finished clip on disk: audio, sidecar, spectrogram, with its mtime `ageMs` before NOW. */
function writeClip(dir: string, id: string, labelId: string, ageMs: number, audioBytes: number): void {
  writeFileSync(`${dir}/${id}.flac`, Buffer.alloc(audioBytes, 1));
  writeFileSync(`${dir}/${id}.json`, JSON.stringify({ clip: { id, eventId: `run/${id}`, path: `${id}.flac`, startSeconds: 1, endSeconds: 4, sampleRateHz: 16000 }, labelId, label: labelId }));
  writeFileSync(`${dir}/${id}.png`, Buffer.alloc(100, 2));
  const t = (NOW - ageMs) / 1000;
  utimesSync(`${dir}/${id}.flac`, t, t);
}

function sweeper(dir: string, cfg: Partial<ConstructorParameters<typeof ClipRetention>[0]>) {
  const rows: ClipRecord[] = [];
  const logs: string[] = [];
  const registry = new Registry();
  const r = new ClipRetention(
    { maxAgeDays: 0, maxBytes: 0, maxDiskPercent: 0, minPerLabel: 0, ...cfg },
    { dir, record: (c) => rows.push(c), log: (l) => logs.push(l), metrics: createClipMetrics(registry), nowMs: () => NOW },
  );
  return { r, rows, logs, registry };
}

test('retention, tiny quota: the oldest clips go first, whole (audio, sidecar, PNG), rows marked deleted; a clip being written is untouched', async (t) => {
  const tmp = tempDir('clips-ret');
  t.after(() => tmp.cleanup());
  // ages in hours; sizes vary so the quota is not a clip count
  const clips = [
    ['a', 'dog', 9, 3000],
    ['b', 'glass', 8, 1000],
    ['c', 'dog', 7, 2000],
    ['d', 'siren', 6, 4000],
    ['e', 'dog', 5, 1500],
    ['f', 'glass', 4, 2500],
  ] as const;
  for (const [id, label, h, size] of clips) writeClip(tmp.dir, id, label, h * 3_600_000, size);
  writeFileSync(`${tmp.dir}/g.flac.part`, Buffer.alloc(50_000));
  const unit = (id: string) => ['flac', 'json', 'png'].reduce((n, x) => n + statSync(`${tmp.dir}/${id}.${x}`).size, 0);
  // room for the two newest clips (f and e) only
  const quota = unit('f') + unit('e') + 10;
  const { r, rows, registry } = sweeper(tmp.dir, { maxBytes: quota });
  assert.equal(await r.load(), 6);
  assert.equal(await r.sweep(), 4);
  assert.deepEqual(
    rows.map((x) => x.id),
    ['a', 'b', 'c', 'd'],
    'oldest first',
  );
  assert.ok(rows.every((x) => x.state === 'deleted' && x.eventId === `run/${x.id}` && x.path === `${x.id}.flac` && /retention: size/.test(x.error!)));
  assert.deepEqual(readdirSync(tmp.dir).sort(), ['e.flac', 'e.json', 'e.png', 'f.flac', 'f.json', 'f.png', 'g.flac.part']);
  assert.ok(r.bytes <= quota);
  const m = await registry.metrics();
  assert.match(m, /earshot_clips_deleted_total\{reason="size"\} 4/);
  assert.match(m, new RegExp(`earshot_clips_stored_bytes ${r.bytes}`));
  assert.match(m, /earshot_clips_stored 2/);
  assert.equal(await r.sweep(), 0, 'nothing more to do');
});

test('retention: the per-label minimum is kept even above the quota (and logged); age limit', async (t) => {
  const tmp = tempDir('clips-ret-min');
  t.after(() => tmp.cleanup());
  for (let i = 0; i < 5; i++) writeClip(tmp.dir, `dog${i}`, 'dog', (10 - i) * DAY, 1000);
  writeClip(tmp.dir, 'glass0', 'glass', 20 * DAY, 1000);
  writeClip(tmp.dir, 'cat0', 'cat', 1 * DAY, 1000);
  const { r, rows, logs } = sweeper(tmp.dir, { maxBytes: 1, minPerLabel: 2 });
  await r.load();
  await r.sweep();
  assert.deepEqual(
    rows.map((x) => x.id),
    ['dog0', 'dog1', 'dog2'],
    'the oldest dogs go; the newest 2 dogs and the only glass and cat stay',
  );
  assert.deepEqual(
    readdirSync(tmp.dir)
      .filter((f) => f.endsWith('.flac'))
      .sort(),
    ['cat0.flac', 'dog3.flac', 'dog4.flac', 'glass0.flac'],
  );
  assert.match(logs.join('\n'), /minPerLabel \(2\)/);

  // age: 7 days, minimum 1 per label: dog3 (7 d) is exactly at the limit, glass0 (20 d) is its label's last
  const tmp2 = tempDir('clips-ret-age');
  t.after(() => tmp2.cleanup());
  for (let i = 0; i < 5; i++) writeClip(tmp2.dir, `dog${i}`, 'dog', (10 - i) * DAY - (i === 3 ? 1000 : 0), 1000);
  writeClip(tmp2.dir, 'glass0', 'glass', 20 * DAY, 1000);
  const s2 = sweeper(tmp2.dir, { maxAgeDays: 7, minPerLabel: 1 });
  await s2.r.load();
  await s2.r.sweep();
  assert.deepEqual(
    s2.rows.map((x) => [x.id, x.error]),
    [
      ['dog0', 'retention: age'],
      ['dog1', 'retention: age'],
      ['dog2', 'retention: age'],
    ],
  );
  assert.ok(existsSync(`${tmp2.dir}/glass0.flac`), 'the last glass clip stays although it is 20 days old');
});

test('planSweep on random inventories: oldest first, label minimums, quota and age met whenever the minimums allow', () => {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let trial = 0; trial < 500; trial++) {
    const n = Math.floor(rnd() * 40);
    const clips: StoredClip[] = Array.from({ length: n }, (_, i) => ({
      id: `c${i}`,
      labelId: `l${Math.floor(rnd() * 4)}`,
      createdMs: NOW - Math.floor(rnd() * 30 * DAY),
      bytes: 1 + Math.floor(rnd() * 5000),
      record: {} as ClipRecord,
    })).sort((a, b) => a.createdMs - b.createdMs);
    const p = { nowMs: NOW, maxAgeMs: rnd() < 0.5 ? 0 : Math.floor(rnd() * 30 * DAY), maxBytes: rnd() < 0.3 ? 0 : Math.floor(rnd() * 100_000), minPerLabel: Math.floor(rnd() * 4) };
    const del = new Set(planSweep(clips, p).map((d) => d.id));
    const kept = clips.filter((c) => !del.has(c.id));
    const count = (l: string, xs: StoredClip[]) => xs.filter((c) => c.labelId === l).length;
    for (const l of new Set(clips.map((c) => c.labelId))) assert.ok(count(l, kept) >= Math.min(count(l, clips), p.minPerLabel), 'label minimum');
    const atMin = (c: StoredClip) => count(c.labelId, kept) <= p.minPerLabel;
    for (const c of kept) {
      if (p.maxAgeMs > 0 && NOW - c.createdMs > p.maxAgeMs) assert.ok(atMin(c), 'an over-age clip stays only for its label minimum');
    }
    const total = kept.reduce((s, c) => s + c.bytes, 0);
    if (p.maxBytes > 0 && total > p.maxBytes) assert.ok(kept.every(atMin), 'over quota only when every label is at its minimum');
    // oldest first within a label: a kept clip is never older than a deleted one of the same label
    for (const d of clips.filter((c) => del.has(c.id))) {
      assert.ok(!kept.some((k) => k.labelId === d.labelId && k.createdMs < d.createdMs), 'a label loses its oldest clips first');
    }
  }
});
