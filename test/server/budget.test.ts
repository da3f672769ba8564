import assert from 'node:assert/strict';
import { test } from 'node:test';

import { fullFrame, promValue, startTestServer } from './harness.js';
import { httpGet, TestClient } from './wsclient.js';

type Paused = { pause(): void; resume(): void };
const socketOf = (c: TestClient) => (c.ws as unknown as { _socket: Paused })._socket;

test('clients that never read are cut off, largest backlog first, so all together stay within server.queueBudgetBytes', async (t) => {
  const budget = 1024 * 1024;
  const { server, url, http } = await startTestServer({ queueBudgetBytes: budget, stalledDisconnectSeconds: 600 });
  t.after(() => server.close());
  const reader = await TestClient.connect(url);
  const hostile = await Promise.all(Array.from({ length: 10 }, () => TestClient.connect(url)));
  t.after(() => Promise.all([reader, ...hostile].map((c) => c.close())));
  await reader.request({ type: 'subscribe', topK: 1000 }, 'subscribed');
  for (const h of hostile) {
    await h.request({ type: 'subscribe', topK: 1000 }, 'subscribed');
    socketOf(h).pause();
  }
  let n = 0;
  let peak = 0;
  for (; n < 20_000 && server.clientStats().length > 1; n++) {
    const from = reader.messages.length;
    server.publishScores(fullFrame(n));
    await reader.waitFor((m) => m.type === 'scores' && m.t === n, 20_000, from);
    peak = Math.max(peak, promValue((await httpGet(`${http}/metrics`)).body, 'earshot_client_queued_bytes'));
  }
  assert.equal(server.clientStats().length, 1, `hostile clients still connected after ${n} frames`);
  assert.ok(peak <= budget, `held ${peak} bytes, budget ${budget}`);
  assert.ok(peak > budget / 4, `the test never loaded the budget (peak ${peak})`);
  const prom = (await httpGet(`${http}/metrics`)).body;
  assert.equal(promValue(prom, 'earshot_budget_disconnects_total'), 10);
  assert.equal(promValue(prom, 'earshot_stalled_disconnects_total'), 0);
  assert.equal(reader.messages.filter((m) => m.type === 'scores').length, n, 'the reading client got every frame');
  assert.equal((await reader.request({ type: 'stats' }, 'stats')).dropped, 0);
});

test('replies count against the queue: a client that pings but never reads is cut off and the lost pong counted', async (t) => {
  const { server, url, http } = await startTestServer({ clientQueueMessages: 4, stalledDisconnectSeconds: 600 });
  t.after(() => server.close());
  const c = await TestClient.connect(url);
  t.after(() => c.close());
  await c.waitFor((m) => m.type === 'hello');
  socketOf(c).pause();
  const id = 'x'.repeat(60_000);
  // ~4 MB fit in loopback kernel buffers and 256 kB in ws before the queue fills
  for (let i = 0; i < 2000 && server.clientStats().length > 0; i++) {
    // a send may fail once the server has cut the client off; the loop condition sees that next
    await new Promise<void>((resolve) => c.ws.send(JSON.stringify({ type: 'ping', id }), () => resolve()));
    if (c.ws.readyState !== c.ws.OPEN) break;
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 5));
  }
  while (server.clientStats().length > 0) await new Promise((r) => setTimeout(r, 20));
  const prom = (await httpGet(`${http}/metrics`)).body;
  assert.equal(promValue(prom, 'earshot_replies_dropped_total'), 1);
  assert.equal(promValue(prom, 'earshot_stalled_disconnects_total'), 1);
});

test('server.maxClients: the next upgrade gets 503 (counted) until a client leaves', async (t) => {
  const { server, url, http } = await startTestServer({ maxClients: 2 });
  t.after(() => server.close());
  const a = await TestClient.connect(url);
  const b = await TestClient.connect(url);
  t.after(() => Promise.all([a.close(), b.close()]));
  await assert.rejects(TestClient.connect(url), /HTTP 503/);
  assert.equal(promValue((await httpGet(`${http}/metrics`)).body, 'earshot_connections_refused_total'), 1);
  await b.close();
  while (server.clientStats().length > 1) await new Promise((r) => setTimeout(r, 20));
  const c = await TestClient.connect(url);
  t.after(() => c.close());
  assert.equal((await c.waitFor((m) => m.type === 'hello')).type, 'hello');
});
