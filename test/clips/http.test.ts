import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { PNG } from 'pngjs';

import { parseRange } from '../../src/clips/http.js';
import { parseConfig } from '../../src/config/load.js';
import { logMelPatches } from '../../src/features/patches.js';
import { startDaemon } from '../../src/pipeline/daemon.js';
import { pacedAudio } from '../../src/pipeline/paced-file.js';
import { tempDir } from '../audio/tmp.js';
import { runCli } from '../helpers/cli.js';
import { energyTagger } from '../pipeline/fakes.js';
import { TestClient } from '../server/wsclient.js';
import { insertedTone } from './exact.js';

const RATE = 16000;
const TOKEN = 's3cret';

test('parseRange: single ranges, suffix, open end; unsatisfiable and ignored forms', () => {
  assert.deepEqual(parseRange('bytes=0-99', 1000), { start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=900-', 1000), { start: 900, end: 999 });
  assert.deepEqual(parseRange('bytes=-10', 1000), { start: 990, end: 999 });
  assert.deepEqual(parseRange('bytes=990-5000', 1000), { start: 990, end: 999 });
  assert.equal(parseRange('bytes=1000-', 1000), undefined);
  assert.equal(parseRange('bytes=5-2', 1000), undefined);
  assert.equal(parseRange('bytes=0-1,5-6', 1000), null);
  assert.equal(parseRange(undefined, 1000), null);
});

test('clips over HTTP: event.end carries the clip path; GET with the API token, Range requests, content types', async (t) => {
  const tmp = tempDir('clips-http');
  t.after(() => tmp.cleanup());
  const src = Float32Array.from(insertedTone(RATE, 8, 2.5, 1.5), (v) => v / 32768);
  const config = parseConfig({
    stateDir: tmp.dir,
    sources: [{ id: 'door', kind: 'file', path: 'in.wav', realtime: false }],
    server: { port: 0, token: TOKEN },
    clips: { preRollSeconds: 1, postRollSeconds: 1, ringMarginSeconds: 30, labels: { include: ['Loud'] } },
  });
  const d = await startDaemon(config, {
    version: 'test',
    openSource: () => pacedAudio(async () => ({ samples: src, sampleRateHz: RATE, channels: 1 }), { loop: false }),
    loadTagger: async () => energyTagger(-3.5),
    patches: logMelPatches,
    history: { path: tmp.path('history.sqlite'), clipsDir: tmp.path('clips') },
  });
  t.after(() => d.stop());
  await d.finished;
  await d.clips!.settled();
  const base = `http://127.0.0.1:${d.address.port}`;

  const c = await TestClient.connect(`ws://127.0.0.1:${d.address.port}/`, { authorization: `Bearer ${TOKEN}` });
  t.after(() => c.close());
  await c.request({ type: 'subscribe', labels: ['Loud'], kinds: ['events'], since: 0 }, 'subscribed');
  await c.request({ type: 'ping' }, 'pong');
  const end = c.messages.find((m) => m.type === 'event.end');
  assert.ok(end, 'a Loud event ended');
  const clip = end.clip as string;
  assert.match(clip, /^\/clips\/[A-Za-z0-9._-]+\.flac$/);
  const file = readFileSync(tmp.path(`clips/${clip.slice('/clips/'.length)}`));

  const auth = { authorization: `Bearer ${TOKEN}` };
  // The same clip path in the history API and `earshot events --json`.
  // The clip's 'done' row reaches the database within history.flushSeconds.
  let api: { events?: { id: string; clip?: string }[]; error?: string } = {};
  for (let i = 0; i < 100 && !api.events?.[0]?.clip; i++) {
    if (i) await new Promise((r) => setTimeout(r, 100));
    api = (await (await fetch(`${base}/api/events?label=Loud`, { headers: auth })).json()) as typeof api;
  }
  assert.ok(api.events, JSON.stringify(api));
  assert.equal(api.events.length, 1);
  assert.equal(api.events[0]!.clip, clip, '/api/events carries the clip path');
  const cli = await runCli(['events', '--db', tmp.path('history.sqlite'), '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const lines = cli.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { label: string; clip?: string });
  assert.deepEqual(
    lines.filter((l) => l.label === 'Loud').map((l) => l.clip),
    [clip],
    'earshot events --json carries it',
  );
  assert.ok(
    lines.filter((l) => l.label !== 'Loud').every((l) => l.clip === undefined),
    'events without a clip have no clip field',
  );
  assert.equal((await fetch(base + clip)).status, 401, 'same auth as the API');
  assert.equal((await fetch(`${base}${clip}?token=wrong`)).status, 401);

  const full = await fetch(base + clip, { headers: auth });
  assert.equal(full.status, 200);
  assert.equal(full.headers.get('content-type'), 'audio/flac');
  assert.equal(full.headers.get('accept-ranges'), 'bytes');
  assert.deepEqual(Buffer.from(await full.arrayBuffer()), file);

  const part = await fetch(`${base}${clip}?token=${TOKEN}`, { headers: { range: 'bytes=100-199' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), `bytes 100-199/${file.length}`);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), file.subarray(100, 200));

  const tail = await fetch(base + clip, { headers: { ...auth, range: 'bytes=-16' } });
  assert.equal(tail.status, 206);
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), file.subarray(file.length - 16));

  const beyond = await fetch(base + clip, { headers: { ...auth, range: `bytes=${file.length}-` } });
  assert.equal(beyond.status, 416);
  assert.equal(beyond.headers.get('content-range'), `bytes */${file.length}`);
  await beyond.arrayBuffer();

  const side = await fetch(base + clip.replace(/\.flac$/, '.json'), { headers: auth });
  assert.equal(side.status, 200);
  const sidecar = (await side.json()) as { label: string; clip: { startSeconds: number; endSeconds: number; spectrogram: string }; event: { startSeconds: number; endSeconds: number } };
  assert.equal(sidecar.label, 'Loud');

  const png = await fetch(base + clip.replace(/\.flac$/, '.png'), { headers: auth });
  assert.equal(png.status, 200);
  assert.equal(png.headers.get('content-type'), 'image/png');
  const img = PNG.sync.read(Buffer.from(await png.arrayBuffer()));
  const seconds = sidecar.clip.endSeconds - sidecar.clip.startSeconds;
  assert.equal(img.width, Math.floor((seconds * RATE - 400) / 160) + 1, 'one column per 10 ms log-mel frame');
  assert.equal(img.height, 64 * 3 + 12, '64 bands and the time axis');
  const px = (x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 3));
  const onset = Math.round((sidecar.event.startSeconds - sidecar.clip.startSeconds) / 0.01);
  assert.deepEqual(px(onset, 0), [255, 255, 255], 'the onset is marked');
  assert.deepEqual(px(100, 64 * 3 + 1), [255, 255, 255], 'a tick at 1 s');
  assert.deepEqual(px(150, 64 * 3 + 1), [0, 0, 0], 'no tick at 1.5 s');
  const top = px(Math.round((sidecar.event.startSeconds + 0.5 - sidecar.clip.startSeconds) / 0.01), 64 * 3 - 1 - 3 * 20);
  const before = px(5, 64 * 3 - 1 - 3 * 20);
  assert.ok(top[0]! + top[1]! > before[0]! + before[1]!, 'the 1 kHz band (mel band 20) is brighter during the tone than before it');

  for (const bad of ['/clips/nope.flac', '/clips/..%2Fhistory.sqlite.flac', '/clips/.hidden.flac']) {
    const r = await fetch(base + bad, { headers: auth });
    assert.equal(r.status, 404, bad);
    await r.arrayBuffer();
  }
});
