import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseConfig } from '../../src/config/load.js';
import { logMelPatches } from '../../src/features/patches.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { startDaemon } from '../../src/pipeline/daemon.js';
import { pacedAudio } from '../../src/pipeline/paced-file.js';
import { tempDir } from '../audio/tmp.js';
import { insertedTone } from '../clips/exact.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { energyTagger } from '../pipeline/fakes.js';
import { TestSubscriber } from './mqtt-client.js';

const RATE = 16000;
const src = Float32Array.from(insertedTone(RATE, 8, 2.5, 1.5), (v) => v / 32768);

/**
 * Two daemon runs on one state directory while the real mosquitto is down: the first
 * run's event messages wait in the history outbox, the second run publishes them
 * ahead of its own once the broker is back. History (both runs' events) is the truth.
 */
test('broker down across a daemon restart: every event of both runs arrives once, the first run first', async (t) => {
  const tmp = tempDir('mqtt-restart');
  t.after(() => tmp.cleanup());
  const broker = await startMosquitto(tmp.path('broker'));
  t.after(() => broker.stop());
  const sub = await TestSubscriber.connect(broker.url, ['earshot/door/event'], { clientId: 'restart-sub', clean: false });
  t.after(() => sub.close());
  await broker.kill();
  const run = async () => {
    const config = parseConfig({
      stateDir: tmp.path('state'),
      sources: [{ id: 'door', kind: 'file', path: 'in.wav', realtime: false }],
      server: { port: 0 },
      history: { flushSeconds: 0.1 },
      clips: { enabled: false },
      mqtt: { url: broker.url, clientId: 'earshot-restart', reconnectSeconds: 0.2 },
    });
    return startDaemon(config, {
      version: 'test',
      openSource: () => pacedAudio(async () => ({ samples: src, sampleRateHz: RATE, channels: 1 }), { loop: false }),
      loadTagger: async () => energyTagger(-3.5),
      patches: logMelPatches,
      history: { path: tmp.path('state/history.sqlite') },
    });
  };
  const first = await run();
  await first.finished;
  await first.stop();
  await new Promise((r) => setTimeout(r, 5)); // a new run id (milliseconds, base 36)
  const second = await run();
  await second.finished;
  await broker.restart();
  // Once the broker acknowledged everything queued, stop (which flushes history) and compare.
  const health = async () => (await (await fetch(`http://127.0.0.1:${second.address.port}/healthz`)).json()) as { integrations: { mqtt: { state: string; queued: number } } };
  for (let i = 0; i < 300; i++) {
    const h = (await health()).integrations.mqtt;
    if (h.state === 'connected' && h.queued === 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await second.stop();
  const store = new SqliteHistoryStore(tmp.path('state/history.sqlite'), { readonly: true });
  t.after(() => store.close());
  const events = [...(await store.events({ limit: 100 })).events].reverse();
  const runs = [...new Set(events.map((e) => e.id.split('/')[0]!))];
  assert.equal(runs.length, 2, `events from both runs in history: ${events.map((e) => e.id).join(' ')}`);
  const want = events.flatMap((e) => [`${e.id}#start`, `${e.id}#end`]);
  const key = (m: { payload: string }) => {
    const e = JSON.parse(m.payload) as { id: string; type: string };
    return `${e.id}#${e.type}`;
  };
  for (let i = 0; i < 50 && sub.messages.length < want.length; i++) await new Promise((r) => setTimeout(r, 100));
  const got = sub.messages.map(key);
  assert.equal(new Set(got).size, got.length, `none twice: ${got.join(' ')}`);
  assert.deepEqual([...got].sort(), [...want].sort(), 'every event of both runs, start and end');
  const lastOfFirst = Math.max(...got.map((k, i) => (k.startsWith(`${runs[0]}/`) ? i : -1)));
  const firstOfSecond = got.findIndex((k) => k.startsWith(`${runs[1]}/`));
  assert.ok(lastOfFirst < firstOfSecond, 'the first run is published before the second');
});
