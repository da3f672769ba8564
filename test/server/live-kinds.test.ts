import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { levelsMessage, spectrogramMessage } from '../../src/levels/messages.js';
import { fullFrame, startTestServer } from './harness.js';
import { TestClient } from './wsclient.js';

const started = startTestServer();
after(async () => (await started).server.close());

test('levels and spectrogram go only to subscribers that name them; default kinds stay scores/events/status', async () => {
  const { server, url } = await started;
  const plain = await TestClient.connect(url);
  const live = await TestClient.connect(url);
  try {
    const a = await plain.request({ type: 'subscribe' }, 'subscribed');
    assert.deepEqual(a.kinds, ['scores', 'events', 'status']);
    await live.request({ type: 'subscribe', kinds: ['levels', 'spectrogram'] }, 'subscribed');
    const reading = { sourceId: 'a', tSeconds: 1.5, rmsDb: -23.456, loudness: 12.3456789, centroidHz: 1624.4, flatness: 0.25123 };
    server.publishLive('levels', 'a', () => levelsMessage(reading));
    const data = Uint8Array.from([0, 128, 255, 7]);
    server.publishLive('spectrogram', 'a', () => spectrogramMessage({ sourceId: 'a', tSeconds: 1, hopSeconds: 0.01, frames: 2, bands: 2, lo: -4, hi: 4, data }));
    const lv = await live.waitFor((m) => m.type === 'levels');
    assert.deepEqual(lv, { type: 'levels', source: 'a', t: 1.5, rmsDb: -23.46, loudness: 12.3457, centroidHz: 1624, flatness: 0.2512 });
    const sp = await live.waitFor((m) => m.type === 'spectrogram');
    assert.deepEqual([...Buffer.from(sp.data as string, 'base64')], [0, 128, 255, 7]);
    assert.equal(sp.frames, 2);
    server.publishScores(fullFrame(2));
    await plain.waitFor((m) => m.type === 'scores');
    assert.ok(!plain.messages.some((m) => m.type === 'levels' || m.type === 'spectrogram'));
    assert.ok(!live.messages.some((m) => m.type === 'scores'));
  } finally {
    await plain.close();
    await live.close();
  }
});

test('subscribe with latest: true gets the newest scores frame at once; without it, nothing until the next hop', async () => {
  const { server, url } = await started;
  server.publishScores(fullFrame(7.5));
  const c = await TestClient.connect(url);
  const d = await TestClient.connect(url);
  try {
    await c.request({ type: 'subscribe', kinds: ['scores'], topK: 2, latest: true }, 'subscribed');
    const s = await c.waitFor((m) => m.type === 'scores', 2000);
    assert.equal(s.t, 7.5);
    assert.equal((s.top as unknown[]).length, 2);
    await d.request({ type: 'subscribe', kinds: ['scores'] }, 'subscribed');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(!d.messages.some((m) => m.type === 'scores'));
  } finally {
    await c.close();
    await d.close();
  }
});
