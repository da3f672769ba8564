import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startTestServer } from './harness.js';
import { TestClient } from './wsclient.js';

test('WebSocket upgrade: same origin, listed origins and no Origin pass; others get 403', async (t) => {
  const { server, url } = await startTestServer({ allowedOrigins: ['https://dash.example:8443'] });
  t.after(() => server.close());
  const self = url.replace('ws://', 'http://').replace(/\/$/, '');
  const ok: TestClient[] = [];
  t.after(() => Promise.all(ok.map((c) => c.close())));
  const passing: Record<string, string>[] = [{}, { origin: self }, { origin: 'https://dash.example:8443' }];
  for (const headers of passing) {
    const c = await TestClient.connect(url, headers);
    ok.push(c);
    assert.equal((await c.waitFor((m) => m.type === 'hello')).type, 'hello', JSON.stringify(headers));
  }
  for (const origin of ['http://evil.example', 'null', 'file://', 'https://dash.example', self.replace('127.0.0.1', '127.0.0.1.evil.example'), 'not a url']) {
    await assert.rejects(TestClient.connect(url, { origin }), /HTTP 403/, origin);
  }
});

test('server.allowedOrigins "*" lets any origin in', async (t) => {
  const { server, url } = await startTestServer({ allowedOrigins: ['*'] });
  t.after(() => server.close());
  const c = await TestClient.connect(url, { origin: 'http://evil.example' });
  t.after(() => c.close());
  assert.equal((await c.waitFor((m) => m.type === 'hello')).type, 'hello');
});
