import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import Database from 'better-sqlite3';

import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { type DaemonProcess, run, startDaemonProcess } from '../e2e/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';
import { httpGet, TestClient } from '../server/wsclient.js';

/**
 * The daemon's history with real parts: `earshot run` as a child process on real
 * YAMNet, a real SQLite file, a real tmpfs that fills up, real ws clients.
 */
let root = '';
let model = '';
let speech = '';
const daemons: DaemonProcess[] = [];
const clients: TestClient[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'earshot-history-daemon-'));
  model = join(root, 'yamnet');
  const imp = await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model]);
  assert.equal(imp.code, 0, imp.stderr);
  run('espeak-ng', ['-w', join(root, 'speech-raw.wav'), 'Remember what it heard. Detection history, archive indexing and search.']);
  run('sox', [join(root, 'speech-raw.wav'), '-r', '16000', '-c', '1', join(root, 'speech.wav'), 'pad', '0', '2']);
  speech = join(root, 'speech.wav');
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(daemons.map((d) => d.stop()));
  rmSync(root, { recursive: true, force: true });
});

function metricValue(text: string, name: string, labels = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) {
      if (labels && !line.includes(labels)) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

async function waitMetric(d: DaemonProcess, name: string, atLeast: number, labels = ''): Promise<string> {
  for (;;) {
    const m = await httpGet(`${d.http}/metrics`);
    if (metricValue(m.body, name, labels) >= atLeast) return m.body;
    if (d.child.exitCode !== null) throw new Error(`daemon exited: ${d.stderr()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const config = (extra: Record<string, unknown> = {}) => ({
  models: { yamnetDir: model },
  history: { flushSeconds: 0.5, batchMaxRecords: 200 },
  ...extra,
});

test('SIGKILL while writing: the database opens, integrity_check is ok, every committed record is there', async () => {
  const dir = join(root, 'kill');
  const d = await startDaemonProcess(config(), dir, { args: ['--source', `file:${speech}`, '--loop', '--fast'] });
  daemons.push(d);
  await waitMetric(d, 'earshot_history_written_total', 40, 'kind="segment"');
  const before = await httpGet(`${d.http}/metrics`);
  const committed = metricValue(before.body, 'earshot_history_written_total', 'kind="segment"');
  const committedEvents = metricValue(before.body, 'earshot_history_written_total', 'kind="event"');
  d.child.kill('SIGKILL');
  await d.stop();
  const path = join(dir, 'history.sqlite');
  const db = new Database(path);
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  const segments = (db.prepare('SELECT count(*) AS n FROM segments').get() as { n: number }).n;
  const events = (db.prepare('SELECT count(*) AS n FROM events').get() as { n: number }).n;
  db.close();
  // Everything acknowledged as committed before the kill survived; what was lost is
  // only what had not been committed yet (the queue and the batch in flight).
  assert.ok(segments >= committed, `${segments} segments in the file, ${committed} committed before the kill`);
  assert.ok(events >= 1 && events >= committedEvents / 2, `${events} event rows`);
  // The store reopens for writing (migrations are a no-op) and keeps working.
  const store = new SqliteHistoryStore(path);
  const hits = await store.searchLabels({ labelIds: ['/m/09x0r'], minScore: 0.5, limit: 5 });
  assert.equal(hits.length, 5);
  await store.close();
});

test('disk full (a 384 KiB tmpfs): HISTORY_FULL counted in /metrics and logged, live WebSocket clients keep receiving', async (t) => {
  const dir = join(root, 'full');
  const mnt = join(dir, 'state');
  mkdirSync(mnt, { recursive: true });
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=384k', 'tmpfs', mnt], { encoding: 'utf8' });
  if (m.status !== 0) {
    t.skip(`cannot mount a tmpfs here (needs root): ${m.stderr.trim()}`);
    return;
  }
  t.after(() => {
    spawnSync('umount', ['-l', mnt]);
  });
  const d = await startDaemonProcess(config(), dir, { args: ['--source', `file:${speech}`, '--loop', '--fast', '--state-dir', mnt] });
  daemons.push(d);
  const c = await TestClient.connect(d.ws);
  clients.push(c);
  c.send({ type: 'subscribe', kinds: ['scores', 'events'], topK: 1 });
  await waitMetric(d, 'earshot_history_write_errors_total', 1, 'code="HISTORY_FULL"');
  assert.match(d.stderr(), /history: write failed, retrying every 2s: \[HISTORY_FULL\]/);
  // The pipeline and the server do not notice: more scores arrive after the failure.
  const seen = c.messages.filter((x) => x.type === 'scores').length;
  await c.waitFor((x) => x.type === 'scores', 30_000, c.messages.length);
  await c.waitFor((x) => x.type === 'scores', 30_000, c.messages.length);
  assert.ok(c.messages.filter((x) => x.type === 'scores').length >= seen + 2);
  assert.equal((await httpGet(`${d.http}/healthz`)).status, 200);
  assert.equal(await d.stop(), 0);
  assert.ok(existsSync(join(mnt, 'history.sqlite')));
});
