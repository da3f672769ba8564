import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { WebSocket } from 'ws';

import { serverSchema } from '../../src/config/sections/server.js';
import type { LabelEvent, ScoreFrame } from '../../src/events/contracts.js';
import { parseLabelsCsv } from '../../src/models/modeldir.js';
import { createMetrics } from '../../src/server/metrics.js';
import { loadOntology } from '../../src/server/ontology.js';
import { ProtocolServer, type ServerContext, type SourceView } from '../../src/server/server.js';
import { sharedPath } from '../helpers/shared.js';
import { view } from './views.js';
import { httpGet, TestClient } from './wsclient.js';

const labels = parseLabelsCsv(readFileSync(sharedPath('data/audioset/metadata/class_labels_indices.csv'), 'utf8'));
const ontology = loadOntology(sharedPath('data/audioset/metadata/ontology.json'));
const SPEECH = labels.find((l) => l.name === 'Speech')!.index;
const SINE = labels.find((l) => l.name === 'Sine wave')!.index;

async function startServer(over: Record<string, unknown> = {}, views?: SourceView[]) {
  const metrics = createMetrics();
  const model = { name: 'fake', backend: 'fake', labels };
  const ctx: ServerContext = {
    version: '0.0.0-test',
    metrics,
    ontology,
    // without `views`: a up, b not started yet
    sources: () => views ?? [view('a', 'file', model), view('b', 'mic', model, 'starting')],
    defaultTopK: 5,
    nowMs: () => Date.now(),
  };
  const server = await ProtocolServer.start(serverSchema.parse({ port: 0, ...over }), ctx);
  const { port } = server.address;
  return { server, metrics, url: `ws://127.0.0.1:${port}/`, http: `http://127.0.0.1:${port}` };
}

function frame(sourceId: string, t: number, hot: Record<number, number>): ScoreFrame {
  const scores = new Float32Array(labels.length).fill(0.01);
  for (const [i, v] of Object.entries(hot)) scores[Number(i)] = v;
  return { sourceId, tSeconds: t, scores, labels };
}

function ev(type: LabelEvent['type'], n: number, label = labels[SPEECH]!): LabelEvent {
  return { type, id: `a:${label.index}:${n}`, sourceId: 'a', label: label.name, labelId: label.id, tSeconds: n, startSeconds: n, endSeconds: n, score: 0.9 };
}

test('hello first, nothing else until subscribe; filtered scores afterwards', async (t) => {
  const { server, url } = await startServer();
  t.after(() => server.close());
  const c = await TestClient.connect(url);
  t.after(() => c.close());
  const hello = await c.waitFor((m) => m.type === 'hello');
  assert.equal((hello.sources as unknown[]).length, 2);
  assert.equal((hello.models as { labelCount: number }[])[0]!.labelCount, 527);
  server.publishScores(frame('a', 0.96, { [SPEECH]: 0.9 }));
  server.publishEvent(ev('event.start', 1));
  await c.request({ type: 'ping', id: 7 }, 'pong');
  assert.deepEqual(
    c.messages.map((m) => m.type),
    ['hello', 'pong'],
    'an idle client gets only hello',
  );

  // "Human voice" is a parent in the ontology: Speech (its descendant) passes, Sine wave does not.
  const ack = await c.request({ type: 'subscribe', sources: ['a'], labels: ['/m/09l8g'], topK: 3, kinds: ['scores', 'events'] }, 'subscribed');
  assert.equal(ack.type, 'subscribed');
  server.publishScores(frame('b', 0.96, { [SPEECH]: 0.9 }));
  server.publishScores(frame('a', 1.92, { [SPEECH]: 0.8, [SINE]: 0.99 }));
  const s = await c.waitFor((m) => m.type === 'scores');
  assert.equal(s.source, 'a');
  assert.equal(s.t, 1.92);
  const top = s.top as { label: string; id: string; score: number }[];
  assert.equal(top[0]!.label, 'Speech');
  assert.equal(top[0]!.id, '/m/09x0r');
  assert.ok(!top.some((x) => x.label === 'Sine wave'));
  assert.ok(top.length <= 3);
  server.publishEvent(ev('event.start', 2, labels[SINE]));
  server.publishEvent(ev('event.start', 3));
  const e = await c.waitFor((m) => m.type === 'event.start');
  assert.equal(e.label, 'Speech');
  assert.equal(e.id, `a:${SPEECH}:3`);
  assert.equal(c.messages.filter((m) => m.type === 'scores').length, 1, 'source b was not subscribed');
});

test('malformed, unknown and invalid messages get error and the connection survives', async (t) => {
  const { server, url } = await startServer();
  t.after(() => server.close());
  const c = await TestClient.connect(url);
  t.after(() => c.close());
  const cases: [unknown, RegExp][] = [
    ['{not json', /not JSON/],
    ['[1,2]', /JSON object/],
    [{ type: 'launch' }, /unknown message type "launch"/],
    [{ type: 'subscribe', topK: -1 }, /invalid subscribe message: topK/],
    [{ type: 'subscribe', labels: ['Speach'] }, /"Speach"/],
    [{ type: 'subscribe', sources: ['nope'] }, /unknown source "nope"/],
    [{ type: 'subscribe', since: 'a:0:99' }, /not among/],
  ];
  for (const [m, re] of cases) {
    const r = await c.request(m, 'error');
    assert.equal(r.type, 'error');
    assert.equal(r.code, 'PROTOCOL_ERROR');
    assert.match(String(r.message), re);
  }
  assert.equal((await c.request({ type: 'ping' }, 'pong')).type, 'pong');
});

test('a message over maxMessageBytes closes the connection with 1009', async (t) => {
  const { server, url } = await startServer({ maxMessageBytes: 1024 });
  t.after(() => server.close());
  const c = await TestClient.connect(url);
  const code = await new Promise<number>((resolve) => {
    c.ws.once('close', (code) => resolve(code));
    c.send({ type: 'subscribe', labels: ['x'.repeat(2000)] });
  });
  assert.equal(code, 1009);
});

test('token auth: refused at upgrade with 401, accepted by header or query', async (t) => {
  const { server, url } = await startServer({ token: 's3cret' });
  t.after(() => server.close());
  await assert.rejects(TestClient.connect(url), /401/);
  await assert.rejects(TestClient.connect(`${url}?token=wrong`), /401/);
  await assert.rejects(TestClient.connect(url, { authorization: 'Bearer s3cre' }), /401/);
  const a = await TestClient.connect(url, { authorization: 'Bearer s3cret' });
  const b = await TestClient.connect(`${url}?token=s3cret`);
  await a.waitFor((m) => m.type === 'hello');
  await b.waitFor((m) => m.type === 'hello');
  // SIGHUP-style reload changes the token without dropping connected clients.
  server.setConfig(serverSchema.parse({ port: 0, token: 'rotated' }));
  await assert.rejects(TestClient.connect(`${url}?token=s3cret`), /401/);
  const c = await TestClient.connect(`${url}?token=rotated`);
  assert.equal((await a.request({ type: 'ping' }, 'pong')).type, 'pong');
  await Promise.all([a.close(), b.close(), c.close()]);
});

test('replay: since an event id or seq resends retained events after it', async (t) => {
  const { server, url } = await startServer({ replayEvents: 3 });
  t.after(() => server.close());
  for (let n = 1; n <= 5; n++) server.publishEvent(ev(n % 2 ? 'event.start' : 'event.end', n));
  const c = await TestClient.connect(url);
  t.after(() => c.close());
  await c.request({ type: 'subscribe', kinds: ['events'], since: `a:${SPEECH}:3` }, 'subscribed');
  await c.request({ type: 'ping' }, 'pong');
  assert.deepEqual(
    c.messages.filter((m) => m.type.startsWith('event.')).map((m) => [m.type, m.seq]),
    [
      ['event.end', 4],
      ['event.start', 5],
    ],
  );
  const d = await TestClient.connect(url);
  t.after(() => d.close());
  await d.request({ type: 'subscribe', kinds: ['events'], since: 0 }, 'subscribed');
  await d.request({ type: 'ping' }, 'pong');
  assert.deepEqual(
    d.messages.filter((m) => m.type.startsWith('event.')).map((m) => m.seq),
    [3, 4, 5],
    'only replayEvents are retained',
  );
});

test('a stalled client drops scores (counted in /metrics and /healthz), does not slow others, and is disconnected', async (t) => {
  const { server, url, http, metrics } = await startServer({ clientQueueMessages: 16, stalledDisconnectSeconds: 1 });
  t.after(() => server.close());
  const fast = await TestClient.connect(url);
  const slow = await TestClient.connect(url);
  t.after(() => Promise.all([fast.close(), slow.close()]));
  // every label, ~25 kB per scores message, so socket buffers fill quickly
  await fast.request({ type: 'subscribe', topK: 1000 }, 'subscribed');
  await slow.request({ type: 'subscribe', topK: 1000 }, 'subscribed');
  const slowSocket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  slowSocket.pause();
  const slowClosed = new Promise<void>((resolve) => slow.ws.once('close', () => resolve()));
  let n = 0;
  let drops = 0;
  const maxFrames = 4000;
  for (; n < maxFrames && drops === 0; n++) {
    const from = fast.messages.length;
    server.publishScores(frame('a', n, { [SPEECH]: 0.9 }));
    if (n === 3) server.publishEvent(ev('event.start', 1));
    await fast.waitFor((m) => m.type === 'scores' && m.t === n, 20_000, from);
    drops = (await metrics.queueDrops.get()).values[0]?.value ?? 0;
  }
  assert.ok(drops > 0, `no drops after ${n} frames`);
  assert.equal(fast.messages.filter((m) => m.type === 'scores').length, n, 'the fast client got every frame');
  const health = JSON.parse((await httpGet(`${http}/healthz`)).body) as { clients: { dropped: number }[] };
  assert.ok(
    health.clients.some((c) => c.dropped > 0),
    'per-client drop count in /healthz',
  );
  assert.ok(
    health.clients.some((c) => c.dropped === 0),
    'the fast client dropped nothing',
  );
  const prom = (await httpGet(`${http}/metrics`)).body;
  assert.match(prom, /earshot_queue_drops_total [1-9]/);
  // the slow client is cut off once stalled past stalledDisconnectSeconds (server side first:
  // the paused client only sees the close once it reads again)
  while (server.clientStats().length > 1) await new Promise((r) => setTimeout(r, 50));
  slowSocket.resume();
  await slowClosed;
  assert.match((await httpGet(`${http}/metrics`)).body, /earshot_stalled_disconnects_total 1/);
  assert.equal((await fast.request({ type: 'stats' }, 'stats')).dropped, 0);
});

test('/healthz is 200 when every source is up or silent, 503 otherwise; unknown paths 404', async (t) => {
  const model = { name: 'fake', backend: 'fake', labels };
  const h: SourceView[] = [view('a', 'file', model, 'up')];
  const { server, http } = await startServer({}, h);
  t.after(() => server.close());
  assert.equal((await httpGet(`${http}/healthz`)).status, 200);
  h.push(view('b', 'mic', model, 'silent'));
  assert.equal((await httpGet(`${http}/healthz`)).status, 200);
  h.push(view('c', 'mic', model, 'down', { status: { sourceId: 'c', state: 'down', restarts: 2, backend: 'fake' } }));
  const r = await httpGet(`${http}/healthz`);
  assert.equal(r.status, 503);
  assert.equal((JSON.parse(r.body) as { sources: unknown[] }).sources.length, 3);
  assert.equal((await httpGet(`${http}/nope`)).status, 404);
  const m = await httpGet(`${http}/metrics`);
  assert.match(m.body, /# TYPE earshot_inference_seconds histogram/);
  assert.match(m.body, /earshot_subscribers 0/);
  void WebSocket;
});
