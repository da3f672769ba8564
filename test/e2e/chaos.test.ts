import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { test } from 'node:test';

import Database from 'better-sqlite3';
import { interval, map } from 'rxjs';

import { parseConfig } from '../../src/config/load.js';
import { logMelPatches } from '../../src/features/patches.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { type Daemon, startDaemon } from '../../src/pipeline/daemon.js';
import { liveSource } from '../../src/pipeline/flow.js';
import { tempDir } from '../audio/tmp.js';
import { insertedTone } from '../clips/exact.js';
import { energyTagger } from '../pipeline/fakes.js';
import { httpGet, type Msg, TestClient } from '../server/wsclient.js';

/**
 * Chaos against a real in-process daemon: a live source paced by the clock (0.1 s
 * chunks of a looping 4 s signal with a 1.5 s loud tone, so one `Loud` event every
 * 4 s), the energy tagger, a real SQLite history in its worker thread, real ws clients.
 */
const RATE = 16000;
const CHUNK = RATE / 10;
const loop = Float32Array.from(insertedTone(RATE, 4, 1, 1.5), (v) => v / 32768);

function start(dir: string, extra: Record<string, unknown>, clipsDir?: string): Promise<Daemon> {
  const config = parseConfig({
    stateDir: dir,
    sources: [{ id: 'door', kind: 'file', path: 'in.wav', realtime: true }],
    server: { port: 0 },
    supervision: { stopBudgetSeconds: 60 },
    history: { flushSeconds: 0.1, retrySeconds: 0.5 },
    ...extra,
  });
  return startDaemon(config, {
    version: 'test',
    openSource: () =>
      liveSource(() =>
        interval(100).pipe(
          map((i) => {
            const at = (i * CHUNK) % loop.length;
            return { samples: loop.slice(at, at + CHUNK), sampleRateHz: RATE, startSample: i * CHUNK };
          }),
        ),
      ),
    loadTagger: async () => energyTagger(-3.5),
    patches: logMelPatches,
    history: { path: `${dir}/history.sqlite`, ...(clipsDir ? { clipsDir } : {}) },
  });
}

/** Cleanups run last-registered first (t.after runs in registration order), even when an assertion fails. */
function lifo(t: { after(fn: () => unknown): void }): (fn: () => unknown) => void {
  const fns: (() => unknown)[] = [];
  t.after(async () => {
    for (const fn of fns.reverse()) await fn();
  });
  return (fn) => void fns.push(fn);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const endedIds = (msgs: readonly Msg[]) => new Set(msgs.filter((m) => m.type === 'event.end').map((m) => String(m.id)));

function metricSum(text: string, name: string): number {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

test('history database locked by another connection for 7 s: clients keep getting scores and events, every ended event reaches the database', async (t) => {
  const tmp = tempDir('chaos-lock');
  const later = lifo(t);
  later(() => tmp.cleanup());
  const d = await start(tmp.dir, {});
  later(() => d.stop());
  const base = `${d.address.host}:${d.address.port}`;
  const c = await TestClient.connect(`ws://${base}/`);
  later(() => c.close());
  await c.request({ type: 'subscribe', kinds: ['scores', 'events'] }, 'subscribed');
  await c.waitFor((m) => m.type === 'event.end', 15_000);

  // Longer than the store's busy_timeout (5 s), so at least one commit fails and is retried.
  const lock = new Database(tmp.path('history.sqlite'));
  later(() => lock.close());
  lock.exec('BEGIN EXCLUSIVE');
  const from = c.messages.length;
  await sleep(7000);
  const during = c.messages.slice(from);
  const health = await httpGet(`http://${base}/healthz`);
  lock.exec('COMMIT');

  assert.ok(during.filter((m) => m.type === 'scores').length >= 10, `scores kept flowing during the lock (${during.length} messages)`);
  assert.ok(endedIds(during).size >= 1, 'events kept ending during the lock');
  assert.equal(health.status, 200, health.body);
  const metrics = (await httpGet(`http://${base}/metrics`)).body;
  assert.ok(metricSum(metrics, 'earshot_history_write_errors_total') >= 1, 'the failed commits under the lock are counted');
  assert.equal(metricSum(metrics, 'earshot_history_dropped_total'), 0);

  // Every event a client saw end is committed after the release, without stopping the daemon.
  const sent = endedIds(c.messages);
  const store = new SqliteHistoryStore(tmp.path('history.sqlite'), { readonly: true });
  later(() => store.close());
  let missing: string[] = [];
  for (let i = 0; i < 100; i++) {
    const stored = new Set((await store.events({ limit: 1000 })).events.map((e) => e.id.slice(e.id.indexOf('/') + 1)));
    missing = [...sent].filter((id) => !stored.has(id));
    if (!missing.length) break;
    await sleep(100);
  }
  assert.deepEqual(missing, [], `events sent to clients but not in history (of ${sent.size})`);
  assert.ok(sent.size >= 3, `several events over the run (${sent.size})`);
});

test('clip directory on a read-only tmpfs: the daemon keeps tagging and serving, clips are recorded as failed', async (t) => {
  const tmp = tempDir('chaos-ro');
  const later = lifo(t);
  later(() => tmp.cleanup());
  const clips = tmp.path('clips');
  mkdirSync(clips);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', clips], { stdio: 'pipe' });
  } catch (e) {
    t.skip(`cannot mount a tmpfs: ${(e as Error).message.split('\n')[0]}`);
    return;
  }
  later(() => execFileSync('umount', [clips]));
  const d = await start(tmp.dir, { clips: { preRollSeconds: 1, postRollSeconds: 0.5, ringMarginSeconds: 2, labels: { include: ['Loud'] } } }, clips);
  later(() => d.stop());
  const base = `${d.address.host}:${d.address.port}`;
  const c = await TestClient.connect(`ws://${base}/`);
  later(() => c.close());
  await c.request({ type: 'subscribe', kinds: ['scores', 'events'] }, 'subscribed');

  // Three loud tones: each event's clip fails to be written, the next ones still come.
  const loud = () => endedIds(c.messages.filter((m) => m.label === 'Loud'));
  for (let n = 1; n <= 3; n++) await c.waitFor(() => loud().size >= n, 15_000);
  const from = c.messages.length;
  await sleep(1000);
  assert.ok(
    c.messages.slice(from).some((m) => m.type === 'scores'),
    'still tagging',
  );
  const health = await httpGet(`http://${base}/healthz`);
  assert.equal(health.status, 200, health.body);
  await d.clips!.settled();

  const store = new SqliteHistoryStore(tmp.path('history.sqlite'), { readonly: true });
  later(() => store.close());
  const sent = loud();
  let failed = 0;
  for (let i = 0; i < 100 && failed < sent.size; i++) {
    failed = 0;
    for (const e of (await store.events({ limit: 100 })).events) {
      if (!sent.has(e.id.slice(e.id.indexOf('/') + 1))) continue;
      const [clip] = await store.clipsOf(e.id);
      if (clip) assert.notEqual(clip.state, 'done', `clip ${clip.id} cannot be done on a read-only disk`);
      if (clip?.state === 'failed') {
        assert.match(clip.error!, /EROFS|read-only/i);
        failed++;
      }
    }
    if (failed < sent.size) await sleep(100);
  }
  assert.equal(failed, sent.size, 'every Loud event a client saw end has its clip recorded as failed');
  assert.ok(sent.size >= 3);
  assert.deepEqual(readdirSync(clips), []);
  assert.equal(d.failures().length, 0, 'no source failed');
});
