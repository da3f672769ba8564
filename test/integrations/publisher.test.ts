import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { Registry } from 'prom-client';

import type { LabelInfo } from '../../src/classify/contracts.js';
import { mqttSchema } from '../../src/config/sections/mqtt.js';
import type { LabelEvent } from '../../src/events/contracts.js';
import type { OutboxStore } from '../../src/history/contracts.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { startIntegrations, watchedLabels } from '../../src/integrations/index.js';
import { type MosquittoBroker, startMosquitto } from '../helpers/mosquitto.js';
import { TestSubscriber } from './mqtt-client.js';

/** The publisher on its own against a real mosquitto: entity removal, the bounded queue, label resolution. */
let root = '';
let broker: MosquittoBroker;
const labels: LabelInfo[] = ['Speech', 'Dog', 'Glass', 'Microwave oven'].map((name, index) => ({ index, id: `/m/${index}`, name }));

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'earshot-mqttpub-'));
  broker = await startMosquitto(join(root, 'broker'));
});

after(async () => {
  await broker?.stop();
  rmSync(root, { recursive: true, force: true });
});

function start(mqtt: Record<string, unknown>, registry = new Registry(), extra: { outbox?: OutboxStore; runId?: string } = {}) {
  const cfg = mqttSchema.parse({ url: broker.url, clientId: 'pub-test', reconnectSeconds: 0.2, ...mqtt });
  return startIntegrations(
    { mqtt: cfg, webhooks: [], notify: { rules: [] } },
    { sources: [{ id: 'hall', labels }], version: 'test', registry, log: () => undefined, nowMs: Date.now, runId: 'r1', ...extra },
  )!;
}

const json = (m: { payload: string }) => JSON.parse(m.payload) as Record<string, unknown>;

function ev(type: LabelEvent['type'], seq: number, label = 'Dog'): LabelEvent {
  return { type, id: `hall:1:${seq}`, sourceId: 'hall', label, labelId: '/m/1', tSeconds: seq, startSeconds: seq, endSeconds: seq, score: 0.9 };
}

test('watched labels: household defaults the model lacks are skipped, a misspelt custom label is CONFIG_INVALID with a suggestion', () => {
  const cfg = mqttSchema.parse({ customLabels: ['microwave OVEN'] });
  assert.deepEqual(
    watchedLabels(cfg, 'hall', labels).map((w) => w.slug),
    ['speech', 'dog', 'glass', 'microwave_oven'],
  );
  assert.deepEqual(
    watchedLabels(mqttSchema.parse({ sourceLabels: { hall: ['Glass'] } }), 'hall', labels).map((w) => w.label),
    ['Glass'],
  );
  assert.throws(() => watchedLabels(mqttSchema.parse({ customLabels: ['Microwve oven'] }), 'hall', labels), /watches "Microwve oven".*did you mean "Microwave oven"/);
});

test('a label removed from the config loses its Home Assistant entity (empty retained config)', async () => {
  const a = start({ customLabels: ['Microwave oven'] });
  const s1 = await TestSubscriber.connect(broker.url, ['homeassistant/#']);
  await s1.waitFor((m) => m.topic === 'homeassistant/binary_sensor/pub_test/hall_microwave_oven/config' && m.payload.length > 0, 20_000, 'microwave config');
  await s1.close();
  await a.stop();
  const b = start({});
  const s2 = await TestSubscriber.connect(broker.url, ['homeassistant/#', 'earshot/status']);
  await s2.waitFor((m) => m.topic === 'earshot/status' && m.payload === 'online', 20_000, 'online');
  await s2.waitFor((m) => m.topic === 'homeassistant/binary_sensor/pub_test/hall_microwave_oven/config' && m.payload === '', 20_000, 'cleared config');
  await b.stop();
  // the retained config is gone: a fresh subscriber sees Dog's but not the microwave's
  const s3 = await TestSubscriber.connect(broker.url, ['homeassistant/#']);
  await s3.waitFor((m) => m.topic === 'homeassistant/binary_sensor/pub_test/hall_dog/config', 20_000, 'dog config');
  assert.ok(!s3.messages.some((m) => m.topic.includes('microwave')), s3.messages.map((m) => m.topic).join(' '));
  await s2.close();
  await s3.close();
});

test('broker down: events beyond queueMaxEvents drop the oldest (counted), the rest arrive in order once it is back, each once', async () => {
  const registry = new Registry();
  const sub = await TestSubscriber.connect(broker.url, ['earshot/hall/event'], { clientId: 'pub-test-sub', clean: false });
  const pub = start({ queueMaxEvents: 5 }, registry);
  await sub.client.publishAsync('earshot/hall/event', 'probe', { qos: 1 });
  await sub.waitFor((m) => m.payload === 'probe', 10_000);
  await new Promise<void>((resolve) => {
    const poll = () => (pub.health().mqtt?.state === 'connected' ? resolve() : setTimeout(poll, 50));
    poll();
  });
  await broker.kill();
  for (let i = 0; i < 8; i++) pub.tap('hall', { kind: 'event', event: ev(i % 2 === 0 ? 'event.start' : 'event.end', Math.floor(i / 2)) });
  assert.equal(pub.health().mqtt?.queued, 5);
  assert.match(await registry.metrics(), /earshot_mqtt_events_total\{result="dropped"\} 3/);
  await broker.restart();
  const last = await sub.waitFor((m) => m.payload.includes('"r1/hall:1:3"') && m.payload.includes('"type":"end"'), 30_000, 'last event');
  assert.ok(last);
  await pub.stop();
  const got = sub.messages
    .filter((m) => m.payload !== 'probe')
    .map((m) => JSON.parse(m.payload) as { id: string; type: string })
    .map((e) => `${e.id}#${e.type}`);
  assert.deepEqual(got, ['r1/hall:1:1#end', 'r1/hall:1:2#start', 'r1/hall:1:2#end', 'r1/hall:1:3#start', 'r1/hall:1:3#end']);
  assert.match(await registry.metrics(), /earshot_mqtt_events_total\{result="sent"\} 5/);
  await sub.close();
});

test('broker down across a daemon restart: event messages wait in the history outbox (real SQLite) and arrive in order, each once, when it is back', async () => {
  const db = join(root, 'outbox.sqlite');
  const sub = await TestSubscriber.connect(broker.url, ['earshot/hall/event'], { clientId: 'pub-outbox-sub', clean: false });
  await broker.kill();
  // First run: the broker is down the whole time; 3 events (start + end), then a clean stop.
  const store1 = new SqliteHistoryStore(db);
  const a = start({}, new Registry(), { outbox: store1, runId: 'run1' });
  for (let i = 0; i < 6; i++) a.tap('hall', { kind: 'event', event: ev(i % 2 === 0 ? 'event.start' : 'event.end', Math.floor(i / 2)) });
  await a.stop();
  await store1.close();
  // Second run on the same database, broker still down: what was left is queued ahead of 2 new events.
  const store2 = new SqliteHistoryStore(db);
  assert.equal((await store2.outboxPending('mqtt', 100)).length, 6, 'the first run left its 6 messages in the outbox');
  const registry = new Registry();
  const b = start({}, registry, { outbox: store2, runId: 'run2' });
  for (let i = 0; i < 4; i++) b.tap('hall', { kind: 'event', event: ev(i % 2 === 0 ? 'event.start' : 'event.end', 10 + Math.floor(i / 2)) });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(b.health().mqtt?.queued, 10);
  await broker.restart();
  await sub.waitFor((m) => m.payload.includes('"run2/hall:1:11"') && m.payload.includes('"type":"end"'), 30_000, 'the last event');
  await b.stop();
  const got = sub.messages.map((m) => JSON.parse(m.payload) as { id: string; type: string }).map((e) => `${e.id}#${e.type}`);
  const want = [0, 1, 2].flatMap((i) => [`run1/hall:1:${i}#start`, `run1/hall:1:${i}#end`]).concat([10, 11].flatMap((i) => [`run2/hall:1:${i}#start`, `run2/hall:1:${i}#end`]));
  assert.deepEqual(got, want, 'every event of both runs, in order, none twice');
  assert.deepEqual(await store2.outboxPending('mqtt', 100), [], 'acknowledged messages leave the outbox');
  await store2.close();
  await sub.close();
});

test('level topic: RMS dBFS over each mqtt.levelSeconds of audio, with a Home Assistant level sensor', async () => {
  const sub = await TestSubscriber.connect(broker.url, ['earshot/hall/level', 'homeassistant/sensor/pub_test/hall_level/config']);
  const pub = start({ levelSeconds: 0.5 });
  const cfg = json(await sub.waitFor((m) => m.topic.endsWith('/hall_level/config'), 20_000, 'level sensor config'));
  assert.equal(cfg.state_topic, 'earshot/hall/level');
  assert.equal(cfg.unit_of_measurement, 'dBFS');
  assert.equal(cfg.unique_id, 'pub_test_hall_level');
  assert.ok(cfg.device && cfg.availability);
  await new Promise<void>((resolve) => {
    const poll = () => (pub.health().mqtt?.state === 'connected' ? resolve() : setTimeout(poll, 50));
    poll();
  });
  const RATE = 16000;
  const sine = (amp: number, n: number, from: number) => Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * 440 * (from + i)) / RATE));
  // 0.5 s in 4 chunks at amplitude 0.5 (RMS 0.354 = -9.0 dBFS), then 0.5 s at 0.05 (-29.0), then digital silence
  for (const [k, amp] of [0.5, 0.5, 0.5, 0.5, 0.05, 0.05, 0.05, 0.05, 0, 0, 0, 0].entries())
    pub.audio('hall', { samples: amp ? sine(amp, 2000, k * 2000) : new Float32Array(2000), sampleRateHz: RATE, startSample: k * 2000 });
  await sub.waitFor((m) => m.topic === 'earshot/hall/level' && m.payload === '-120.0', 20_000, 'silence level');
  assert.deepEqual(
    sub.messages.filter((m) => m.topic === 'earshot/hall/level').map((m) => m.payload),
    ['-9.0', '-29.0', '-120.0'],
  );
  await pub.stop();
  await sub.close();
});
