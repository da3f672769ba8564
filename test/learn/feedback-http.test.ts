import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { test } from 'node:test';

import { decodeAudioFile } from '../../src/audio/decode.js';
import { parseConfig } from '../../src/config/load.js';
import { logMelPatches } from '../../src/features/patches.js';
import { startDaemon } from '../../src/pipeline/daemon.js';
import { pacedAudio } from '../../src/pipeline/paced-file.js';
import { tempDir } from '../audio/tmp.js';
import { insertedTone } from '../clips/exact.js';
import { energyTagger } from '../pipeline/fakes.js';
import { TestClient } from '../server/wsclient.js';

const RATE = 16000;
const TOKEN = 's3cret';

test('feedback: POST /api/feedback and the WebSocket message file the event clip as a training example', async (t) => {
  const tmp = tempDir('feedback-http');
  t.after(() => tmp.cleanup());
  // two tones: two Loud events, each with a clip
  const a = insertedTone(RATE, 8, 2.5, 1.5, 1);
  const b = insertedTone(RATE, 8, 2.5, 1.5, 2);
  const src = new Float32Array(a.length + b.length);
  src.set(Float32Array.from(a, (v) => v / 32768));
  src.set(
    Float32Array.from(b, (v) => v / 32768),
    a.length,
  );
  const config = parseConfig({
    stateDir: tmp.dir,
    sources: [{ id: 'door', kind: 'file', path: 'in.wav', realtime: false }],
    server: { port: 0, token: TOKEN },
    clips: { preRollSeconds: 1, postRollSeconds: 1, ringMarginSeconds: 30, labels: { include: ['Loud'] } },
  });
  const examples = tmp.path('examples');
  const d = await startDaemon(config, {
    version: 'test',
    openSource: () => pacedAudio(async () => ({ samples: src, sampleRateHz: RATE, channels: 1 }), { loop: false }),
    loadTagger: async () => energyTagger(-3.5),
    patches: logMelPatches,
    history: { path: tmp.path('history.sqlite'), clipsDir: tmp.path('clips'), examplesDir: examples },
  });
  t.after(() => d.stop());
  await d.finished;
  await d.clips!.settled();
  const base = `http://127.0.0.1:${d.address.port}`;
  const auth = { authorization: `Bearer ${TOKEN}` };

  // both clips' 'done' rows reach the database within history.flushSeconds
  let events: { id: string; label: string; clip?: string }[] = [];
  for (let i = 0; i < 100 && !(events.length === 2 && events.every((e) => e.clip)); i++) {
    if (i) await new Promise((r) => setTimeout(r, 100));
    events = ((await (await fetch(`${base}/api/events?label=Loud`, { headers: auth })).json()) as { events: typeof events }).events;
  }
  assert.equal(events.length, 2, JSON.stringify(events));
  const [first, second] = events as [(typeof events)[0], (typeof events)[0]];
  const post = (body: unknown, headers: Record<string, string> = auth) =>
    fetch(`${base}/api/feedback`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  // 👎: the clip's audio lands under background/
  const down = await post({ eventId: first.id, correct: false });
  const dj = (await down.json()) as { class: string; path: string; dataDir: string; seconds: number };
  assert.equal(down.status, 200, JSON.stringify(dj));
  assert.equal(dj.class, 'background');
  assert.equal(dj.dataDir, examples);
  assert.ok(dj.path.startsWith(`${examples}/background/`), dj.path);
  const clip = await decodeAudioFile(tmp.path(`clips/${first.clip!.slice('/clips/'.length)}`));
  const saved = await decodeAudioFile(dj.path);
  assert.equal(saved.sampleRateHz, clip.sampleRateHz);
  assert.equal(saved.samples.length, clip.samples.length, 'the whole clip');
  let maxErr = 0;
  for (let i = 0; i < clip.samples.length; i++) maxErr = Math.max(maxErr, Math.abs(saved.samples[i]! - clip.samples[i]!));
  assert.ok(maxErr < 1e-3, `the clip's samples (16-bit), max error ${maxErr}`);
  assert.ok(Math.abs(dj.seconds - clip.samples.length / clip.sampleRateHz) < 1e-9);

  // 👍 over the WebSocket: under the event's label
  const c = await TestClient.connect(`ws://127.0.0.1:${d.address.port}/`, auth);
  t.after(() => c.close());
  const up = await c.request({ type: 'feedback', eventId: second.id, correct: true, id: 7 }, 'feedback');
  assert.equal(up.id, 7);
  assert.equal(up.class, 'Loud');
  assert.ok(String(up.path).startsWith(`${examples}/Loud/`), String(up.path));
  assert.equal(readdirSync(`${examples}/Loud`).length, 1);
  assert.ok((await decodeAudioFile(String(up.path))).samples.length > RATE * 3, 'pre-roll + tone + post-roll');
  // and 👍 over HTTP with a label files it under that class
  const relabel = await post({ eventId: first.id, correct: true, label: 'doorbell' });
  assert.equal(relabel.status, 200);
  assert.equal(readdirSync(`${examples}/doorbell`).length, 1);

  // bad input: 404 naming the id, 400 naming the field, 401 without the token
  const unknown = await post({ eventId: 'no-such-event', correct: false });
  assert.equal(unknown.status, 404);
  const uj = (await unknown.json()) as { error: string; code: string; param: string };
  assert.equal(uj.code, 'EVENT_NOT_FOUND');
  assert.match(uj.error, /no-such-event/);
  assert.equal(uj.param, 'eventId');
  const bad = await post({ eventId: first.id, correct: 'yes' });
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { param: string }).param, 'correct');
  const notJson = await post('{oops');
  assert.equal(notJson.status, 400);
  assert.match(((await notJson.json()) as { error: string }).error, /not JSON/);
  const anon = await post({ eventId: first.id, correct: false }, {});
  assert.equal(anon.status, 401);
  await anon.arrayBuffer();
  assert.equal((await fetch(`${base}/api/feedback`, { headers: auth })).status, 405);
  const wsErr = await c.request({ type: 'feedback', eventId: 'nope', correct: true, id: 'x' }, 'error');
  assert.equal(wsErr.code, 'EVENT_NOT_FOUND');
  assert.equal(wsErr.id, 'x');
  assert.equal(readdirSync(`${examples}/background`).length, 1, 'failed requests wrote nothing');
  assert.ok(!existsSync(`${examples}/nope`));
});
