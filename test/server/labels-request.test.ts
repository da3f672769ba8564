import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startTestServer } from './fixture.js';
import { httpGet, TestClient } from './wsclient.js';

test('hello carries label counts, not the tables; the tables come by a labels message and GET /api/labels', async (t) => {
  const { server, url, http } = await startTestServer();
  t.after(() => server.close());
  const c = await TestClient.connect(url);
  t.after(() => c.close());
  const hello = await c.waitFor((m) => m.type === 'hello');
  assert.deepEqual(hello.models, [{ name: 'fake', backend: 'fake', labelCount: 527 }]);
  assert.ok(JSON.stringify(hello).length < 1000, `hello is ${JSON.stringify(hello).length} bytes`);
  const reply = await c.request({ type: 'labels' }, 'labels');
  const models = reply.models as { name: string; labels: { index: number; id: string; name: string }[] }[];
  assert.equal(models[0]!.labels.length, 527);
  assert.deepEqual(models[0]!.labels[0], { index: 0, id: '/m/09x0r', name: 'Speech' });
  const r = await httpGet(`${http}/api/labels`);
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body), reply);
  assert.match(String((await c.request({ type: 'labels', all: true }, 'error')).message), /invalid labels message/);
});
