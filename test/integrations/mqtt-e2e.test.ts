import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { type DaemonProcess, run, startDaemonProcess } from '../e2e/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { type MosquittoBroker, startMosquitto } from '../helpers/mosquitto.js';
import { sharedPath } from '../helpers/shared.js';
import { httpGet, type Msg, TestClient } from '../server/wsclient.js';
import { type Received, TestSubscriber } from './mqtt-client.js';

/**
 * MQTT end to end against a real Debian mosquitto started here (password file; TLS with
 * a CA made by openssl), `earshot run` as a child process with real YAMNet on a looped
 * espeak-ng speech file. The WebSocket event stream of the same daemon is the ground
 * truth the MQTT event topic is compared with.
 */
let root = '';
let model = '';
const daemons: DaemonProcess[] = [];
const brokers: MosquittoBroker[] = [];
const subs: TestSubscriber[] = [];
const clients: TestClient[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'earshot-mqtt-'));
  model = join(root, 'yamnet');
  const imp = await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model]);
  assert.equal(imp.code, 0, imp.stderr);
  run('espeak-ng', ['-w', join(root, 'speech-raw.wav'), 'Hello, this is a test of the earshot audio tagger. It should recognise human speech in this recording.']);
  // speech then 3 s of silence: every loop is one Speech event.start and event.end
  run('sox', [join(root, 'speech-raw.wav'), '-r', '16000', '-c', '1', join(root, 'speech.wav'), 'pad', '0', '3']);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(subs.map((s) => s.close()));
  await Promise.all(daemons.map((d) => d.stop()));
  await Promise.all(brokers.map((b) => b.stop()));
  rmSync(root, { recursive: true, force: true });
});

function config(mqtt: Record<string, unknown>, dir: string): Record<string, unknown> {
  return {
    stateDir: dir,
    models: { yamnetDir: model },
    sources: [{ id: 'speech', kind: 'file', path: join(root, 'speech.wav'), loop: true, realtime: true }],
    supervision: { restartInitialSeconds: 0.2, restartMaxSeconds: 1, stopBudgetSeconds: 10 },
    mqtt: { clientId: 'earshot-test', reconnectSeconds: 0.3, ...mqtt },
  };
}

async function subscriber(url: string, topics: string[], opts: Parameters<typeof TestSubscriber.connect>[2] = {}): Promise<TestSubscriber> {
  const s = await TestSubscriber.connect(url, topics, opts);
  subs.push(s);
  return s;
}

const json = (m: Received) => JSON.parse(m.payload) as Record<string, unknown>;
const eventKey = (e: Record<string, unknown>) => `${String(e.id).split('/').pop()}#${String(e.type).replace('event.', '')}`;

async function assertDiscovery(s: TestSubscriber): Promise<void> {
  const speech = await s.waitFor((m) => m.topic === 'homeassistant/binary_sensor/earshot_test/speech_speech/config', 30_000, 'Speech binary_sensor config');
  assert.equal(speech.retain, true, 'discovery configs are retained');
  const c = json(speech);
  assert.equal(c.name, 'speech Speech');
  assert.equal(c.unique_id, 'earshot_test_speech_speech');
  assert.equal(c.state_topic, 'earshot/speech/speech');
  assert.equal(c.device_class, 'sound');
  assert.deepEqual(c.availability, [{ topic: 'earshot/status', payload_available: 'online', payload_not_available: 'offline' }]);
  assert.deepEqual((c.device as { identifiers: string[] }).identifiers, ['earshot_earshot_test']);
  const dog = await s.waitFor((m) => m.topic === 'homeassistant/binary_sensor/earshot_test/speech_smoke_detector_smoke_alarm/config', 10_000, 'smoke alarm config');
  assert.equal(json(dog).state_topic, 'earshot/speech/smoke_detector_smoke_alarm');
  const top = json(await s.waitFor((m) => m.topic === 'homeassistant/sensor/earshot_test/speech_top/config', 10_000, 'top sensor config'));
  assert.equal(top.state_topic, 'earshot/speech/top');
  assert.ok(top.device && top.availability);
}

test('password broker: discovery retained, Speech ON then OFF, broker restarted mid-stream loses and repeats no event, stop publishes offline', async () => {
  const dir = join(root, 'pw');
  const broker = await startMosquitto(join(dir, 'broker'), { users: { earshot: 'daemon-secret', ha: 'ha-secret' } });
  brokers.push(broker);
  const ha = { username: 'ha', password: 'ha-secret' };
  // A persistent session (clean: false, qos 1): the broker keeps what arrives while this subscriber reconnects.
  const events = await subscriber(broker.url, ['earshot/#'], { ...ha, clientId: 'ha-events', clean: false });
  // The password comes from the environment, as every mqtt key can.
  const d = await startDaemonProcess(config({ url: broker.url, username: 'earshot' }, dir), dir, { env: { EARSHOT__MQTT__PASSWORD: 'daemon-secret' } });
  daemons.push(d);
  const ws = await TestClient.connect(d.ws);
  clients.push(ws);
  await ws.request({ type: 'subscribe', kinds: ['events'] }, 'subscribed');

  await events.waitFor((m) => m.topic === 'earshot/status' && m.payload === 'online', 30_000, 'status online');
  const retained = await subscriber(broker.url, ['homeassistant/#'], ha);
  await assertDiscovery(retained);

  const on = events.messages.length;
  await events.waitFor((m) => m.topic === 'earshot/speech/speech' && m.payload === 'ON', 60_000, 'Speech ON');
  const onAt = events.messages.findIndex((m, i) => i >= on && m.topic === 'earshot/speech/speech' && m.payload === 'ON');
  await events.waitFor((m) => m.topic === 'earshot/speech/speech' && m.payload === 'OFF' && events.messages.indexOf(m) > onAt, 60_000, 'Speech OFF after ON');
  const first = await events.waitFor((m) => m.topic === 'earshot/speech/event', 10_000, 'an event message');
  const fe = json(first);
  assert.equal(fe.label, 'Speech');
  assert.equal(fe.source, 'speech');
  assert.ok(typeof fe.id === 'string' && typeof fe.score === 'number' && typeof fe.time === 'string' && typeof fe.startSeconds === 'number');

  // Broker down: the daemon keeps tagging (new events on WebSocket), /healthz stays 200 and shows MQTT down.
  await broker.kill();
  const before = ws.messages.filter((m) => m.type === 'event.end').length;
  await ws.waitFor((m: Msg) => m.type === 'event.end' && ws.messages.filter((x) => x.type === 'event.end').indexOf(m) >= before, 60_000);
  const health = await httpGet(`${d.http}/healthz`);
  assert.equal(health.status, 200, health.body);
  const h = JSON.parse(health.body) as { integrations: { mqtt: { state: string; queued: number } } };
  assert.equal(h.integrations.mqtt.state, 'disconnected');
  assert.ok(h.integrations.mqtt.queued >= 1, `events queued during the outage: ${health.body}`);
  const metrics = (await httpGet(`${d.http}/metrics`)).body;
  assert.match(metrics, /earshot_mqtt_connected 0/);
  await broker.restart();

  const outage = ws.messages.filter((m) => m.type === 'event.end').at(-1)!;
  await events.waitFor((m) => m.topic === 'earshot/speech/event' && eventKey(json(m)) === eventKey(outage), 60_000, 'the outage event after reconnect');
  assert.equal(await d.stop(), 0, d.stderr());
  await events.waitFor((m) => m.topic === 'earshot/status' && m.payload === 'offline', 20_000, 'status offline after stop');

  const truth = ws.messages.filter((m) => m.type === 'event.start' || m.type === 'event.end').map(eventKey);
  const got = events.messages.filter((m) => m.topic === 'earshot/speech/event').map((m) => eventKey(json(m)));
  assert.ok(truth.length >= 4, `several events: ${truth.join(' ')}`);
  assert.equal(new Set(got).size, got.length, `no event message twice: ${got.join(' ')}`);
  assert.deepEqual(got, truth, 'every event, in order');
});

test('TLS broker with a test CA: discovery, Speech ON then OFF, SIGKILLed daemon goes offline through the last will', async () => {
  const dir = join(root, 'tls');
  const broker = await startMosquitto(join(dir, 'broker'), { tls: true });
  brokers.push(broker);
  const tls = { ca: readFileSync(broker.caPath) };
  const s = await subscriber(broker.url, ['earshot/#'], tls);
  const d = await startDaemonProcess(config({ url: broker.url, tls: { ca: broker.caPath } }, dir), dir);
  daemons.push(d);
  await s.waitFor((m) => m.topic === 'earshot/status' && m.payload === 'online', 30_000, 'status online');
  await assertDiscovery(await subscriber(broker.url, ['homeassistant/#'], tls));
  await s.waitFor((m) => m.topic === 'earshot/speech/speech' && m.payload === 'ON', 60_000, 'Speech ON');
  const onAt = s.messages.findIndex((m) => m.topic === 'earshot/speech/speech' && m.payload === 'ON');
  await s.waitFor((m) => m.topic === 'earshot/speech/speech' && m.payload === 'OFF' && s.messages.indexOf(m) > onAt, 60_000, 'Speech OFF after ON');

  const from = s.messages.length;
  d.child.kill('SIGKILL');
  await d.stop();
  const offline = await s.waitFor((m) => m.topic === 'earshot/status' && m.payload === 'offline' && s.messages.indexOf(m) >= from, 30_000, 'last will');
  assert.equal(offline.payload, 'offline');
});
