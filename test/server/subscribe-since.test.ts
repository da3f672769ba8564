import assert from 'node:assert/strict';
import { test } from 'node:test';

import { labels, speechEvent, startTestServer } from './fixture.js';
import { TestClient } from './wsclient.js';

test('a subscribe with an unknown since is an error and keeps the previous subscription', async (t) => {
  const { server, url } = await startTestServer();
  t.after(() => server.close());
  server.publishEvent(speechEvent('event.start', 1));
  const c = await TestClient.connect(url);
  t.after(() => c.close());
  await c.request({ type: 'subscribe', sources: ['a'], labels: ['Speech'], kinds: ['events'] }, 'subscribed');
  for (const since of ['bogus:1:1', 'a:0:99']) {
    const e = await c.request({ type: 'subscribe', kinds: ['scores', 'status'], since }, 'error');
    assert.equal(e.code, 'PROTOCOL_ERROR');
    assert.match(String(e.message), new RegExp(`since: event id "${since}" is not among the 1 retained events`));
  }
  assert.ok(!c.messages.some((m) => m.type === 'subscribed' && (m.kinds as string[]).includes('scores')), 'no "subscribed" for the bad one');
  // the old subscription (Speech events of a only) is still in force
  server.publishEvent(speechEvent('event.end', 2));
  const ev = await c.waitFor((m) => m.type === 'event.end');
  assert.equal(ev.seq, 2);
  server.publishScores({ sourceId: 'a', tSeconds: 3, scores: new Float32Array(527).fill(0.5), labels });
  await c.request({ type: 'ping' }, 'pong');
  assert.ok(!c.messages.some((m) => m.type === 'scores'), 'scores were not subscribed before and are not now');
});
