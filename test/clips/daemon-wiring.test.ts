import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';

import { parseConfig } from '../../src/config/load.js';
import { logMelPatches } from '../../src/features/patches.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { startDaemon } from '../../src/pipeline/daemon.js';
import { pacedAudio } from '../../src/pipeline/paced-file.js';
import { tempDir } from '../audio/tmp.js';
import { energyTagger } from '../pipeline/fakes.js';
import { insertedTone } from './exact.js';

const RATE = 16000;
const src = Float32Array.from(insertedTone(RATE, 8, 2.5, 1.5), (v) => v / 32768);

function start(dir: string, extra: Record<string, unknown>) {
  const config = parseConfig({
    stateDir: dir,
    sources: [{ id: 'door', kind: 'file', path: 'in.wav', realtime: false }],
    server: { port: 0 },
    supervision: { stopBudgetSeconds: 60 },
    history: { flushSeconds: 0.1 },
    ...extra,
  });
  return startDaemon(config, {
    version: 'test',
    openSource: () => pacedAudio(async () => ({ samples: src, sampleRateHz: RATE, channels: 1 }), { loop: false }),
    loadTagger: async () => energyTagger(-3.5),
    patches: logMelPatches,
    history: { path: `${dir}/history.sqlite`, clipsDir: `${dir}/clips` },
  });
}

test('daemon: webhook event messages (built like the MQTT ones) carry the clip path and the id history stores', async (t) => {
  const tmp = tempDir('clips-wiring');
  t.after(() => tmp.cleanup());
  const got: { id: string; type: string; label: string; clip?: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push(JSON.parse(body) as (typeof got)[number]);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  const d = await start(tmp.dir, { webhooks: [{ url, labels: ['Loud'] }], clips: { preRollSeconds: 1, postRollSeconds: 1, ringMarginSeconds: 30, labels: { include: ['Loud'] } } });
  await d.finished;
  await d.clips!.settled();
  for (let i = 0; i < 100 && !got.some((e) => e.type === 'end'); i++) await new Promise((r) => setTimeout(r, 100));
  await d.stop();
  const end = got.find((e) => e.type === 'end');
  assert.ok(end, 'the Loud event ended at the receiver');
  const store = new SqliteHistoryStore(tmp.path('history.sqlite'), { readonly: true });
  t.after(() => store.close());
  assert.ok(await store.event(end.id), `the webhook id ${end.id} is the history event id`);
  const [clip] = await store.clipsOf(end.id);
  assert.equal(clip?.state, 'done');
  assert.equal(end.clip, `/clips/${clip!.path}`, 'the message carries the clip path');
  assert.equal(got.find((e) => e.type === 'start')?.clip, end.clip);
});

test('daemon: a clip over clips.maxBytes is swept once written (row deleted, files gone, counted)', async (t) => {
  const tmp = tempDir('clips-sweep');
  t.after(() => tmp.cleanup());
  const d = await start(tmp.dir, { clips: { preRollSeconds: 1, postRollSeconds: 1, ringMarginSeconds: 30, labels: { include: ['Loud'] }, maxBytes: 1, minPerLabel: 0 } });
  await d.finished;
  await d.clips!.settled();
  await d.clips!.retention.sweep();
  const m = (await d.metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('earshot_clips_'));
  await d.stop();
  assert.ok(m.includes('earshot_clips_deleted_total{reason="size"} 1'), m.join('\n'));
  assert.ok(m.includes('earshot_clips_stored 0'), m.join('\n'));
  assert.deepEqual(readdirSync(tmp.path('clips')), [], 'audio, sidecar and spectrogram removed');
  const store = new SqliteHistoryStore(tmp.path('history.sqlite'), { readonly: true });
  t.after(() => store.close());
  const rows = await store.clipsInState('deleted', 10);
  assert.equal(rows.length, 1);
  assert.match(rows[0]!.error!, /retention: size/);
  assert.deepEqual(await store.clipsInState('done', 10), []);
});

test('daemon: a clip whose audio left the ring before it could be written is failed with the reason, never an empty "done"', async (t) => {
  const tmp = tempDir('clips-ring');
  t.after(() => tmp.cleanup());
  // a ring of 0 s: nothing the event needs is still held when it is detected
  const d = await start(tmp.dir, { clips: { preRollSeconds: 0, postRollSeconds: 1, ringMarginSeconds: 0, labels: { include: ['Loud'] } } });
  await d.finished;
  await d.clips!.settled();
  await d.stop();
  const store = new SqliteHistoryStore(tmp.path('history.sqlite'), { readonly: true });
  t.after(() => store.close());
  const events = (await store.events({ limit: 10 })).events.filter((e) => e.label === 'Loud');
  assert.ok(events.length >= 1, 'the Loud event is recorded');
  const clips = await store.clipsOf(events[0]!.id);
  assert.ok(clips.length >= 1, 'a clip row exists');
  for (const c of clips) {
    assert.equal(c.state, 'failed', JSON.stringify(c));
    assert.match(c.error ?? '', /clips\.ringMarginSeconds/);
  }
  assert.deepEqual(
    readdirSync(tmp.path('clips')).filter((f) => f.endsWith('.flac')),
    [],
    'no empty clip file is left',
  );
});
