import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startTestServer } from './harness.js';
import { TestClient } from './wsclient.js';

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Record<string, unknown> | undefined; text: string }> {
  const r = await fetch(url, { headers });
  const text = await r.text();
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  return { status: r.status, json, text };
}

test('with a token: /healthz tells status only without it (details with it), /metrics needs it (401 AUTH_FAILED)', async (t) => {
  const { server, http, url } = await startTestServer({ token: 's3cret' });
  t.after(() => server.close());
  const c = await TestClient.connect(url, { authorization: 'Bearer s3cret' });
  t.after(() => c.close());
  const pub = await get(`${http}/healthz`);
  assert.equal(pub.status, 200);
  assert.deepEqual(pub.json, { status: 'ok' }, 'no sources or clients without the token');
  const full = await get(`${http}/healthz`, { authorization: 'Bearer s3cret' });
  assert.deepEqual(Object.keys(full.json!).sort(), ['clients', 'sources', 'status']);
  assert.equal((full.json!.clients as unknown[]).length, 1);

  const refused: Record<string, string>[] = [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic czNjcmV0' }];
  for (const headers of refused) {
    const m = await get(`${http}/metrics`, headers);
    assert.equal(m.status, 401, JSON.stringify(headers));
    assert.equal(m.json!.code, 'AUTH_FAILED');
  }
  assert.match((await get(`${http}/metrics`, { authorization: 'Bearer s3cret' })).text, /earshot_subscribers 1/);
  assert.match((await get(`${http}/metrics?token=s3cret`)).text, /earshot_subscribers/);
});

test('server.metricsToken opens /metrics to a scraper; publicHealth none refuses /healthz, full opens it', async (t) => {
  const a = await startTestServer({ token: 'main', metricsToken: 'scrape', publicHealth: 'none' });
  t.after(() => a.server.close());
  assert.equal((await get(`${a.http}/metrics`, { authorization: 'Bearer scrape' })).status, 200);
  assert.equal((await get(`${a.http}/metrics`, { authorization: 'Bearer main' })).status, 200, 'the main token opens everything');
  assert.equal((await get(`${a.http}/metrics`, { authorization: 'Bearer nope' })).status, 401);
  const h = await get(`${a.http}/healthz`);
  assert.equal(h.status, 401);
  assert.equal(h.json!.code, 'AUTH_FAILED');
  await assert.rejects(TestClient.connect(a.url, { authorization: 'Bearer scrape' }), /401/, 'the metrics token is not a client token');

  const b = await startTestServer({ token: 'main', publicHealth: 'full' });
  t.after(() => b.server.close());
  assert.ok('sources' in (await get(`${b.http}/healthz`)).json!);
  // without any token configured everything stays open (loopback default)
  const open = await startTestServer();
  t.after(() => open.server.close());
  assert.equal((await get(`${open.http}/metrics`)).status, 200);
  assert.ok('clients' in (await get(`${open.http}/healthz`)).json!);
});

test('the Authorization scheme is case-insensitive (RFC 7235)', async (t) => {
  const { server, url, http } = await startTestServer({ token: 's3cret' });
  t.after(() => server.close());
  for (const scheme of ['bearer', 'BEARER', 'Bearer', 'bEaReR']) {
    const c = await TestClient.connect(url, { authorization: `${scheme} s3cret` });
    assert.equal((await c.waitFor((m) => m.type === 'hello')).type, 'hello', scheme);
    await c.close();
    assert.equal((await get(`${http}/metrics`, { authorization: `${scheme}  s3cret` })).status, 200, scheme);
  }
  await assert.rejects(TestClient.connect(url, { authorization: 'Bearers3cret' }), /401/);
});
