import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

import { type AlsaFixture, createAlsaFixture } from '../helpers/alsa.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';
import { httpGet, type Msg, TestClient } from '../server/wsclient.js';
import { childPids, type DaemonProcess, pacedArecordDir, run, startDaemonProcess } from './daemon-process.js';

/**
 * The daemon end to end, as users run it: `earshot run` in a child process with a
 * config file, real YAMNet (imported from ../shared with `earshot models import`),
 * real files, the real arecord on an ALSA file-PCM microphone, real ws clients.
 * Audio is generated at test time: espeak-ng speech, sox sines.
 */
let root = '';
let model = '';
let alsa: AlsaFixture;
let speechPcm: Int16Array;
const daemons: DaemonProcess[] = [];
const clients: TestClient[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'earshot-e2e-'));
  model = join(root, 'yamnet');
  const imp = await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model]);
  assert.equal(imp.code, 0, imp.stderr);
  run('espeak-ng', ['-w', join(root, 'speech-raw.wav'), 'Hello, this is a test of the earshot audio tagger. It should recognise human speech in this recording.']);
  // speech then 3 s of silence, so a looped file yields event.start and event.end every loop
  run('sox', [join(root, 'speech-raw.wav'), '-r', '16000', '-c', '1', join(root, 'speech.wav'), 'pad', '0', '3']);
  run('sox', ['-n', '-r', '16000', '-c', '1', join(root, 'sine.wav'), 'synth', '3', 'sine', '1000', 'pad', '0', '3']);
  run('sox', [join(root, 'speech-raw.wav'), '-r', '16000', '-c', '1', '-e', 'signed', '-b', '16', '-t', 'raw', join(root, 'speech.raw')]);
  const b = readFileSync(join(root, 'speech.raw'));
  speechPcm = new Int16Array(b.buffer, b.byteOffset, b.byteLength / 2);
  alsa = await createAlsaFixture({ samples: speechPcm });
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(daemons.map((d) => d.stop()));
  await alsa?.cleanup();
  rmSync(root, { recursive: true, force: true });
});

async function connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
  const c = await TestClient.connect(url, headers);
  clients.push(c);
  return c;
}

function baseConfig(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    models: { yamnetDir: model, ontologyPath: sharedPath('data/audioset/metadata/ontology.json') },
    supervision: { restartInitialSeconds: 0.2, restartMaxSeconds: 1, silenceSeconds: 2, stopBudgetSeconds: 5 },
    ...extra,
  };
}

const isEvent = (type: string, source: string, label: string) => (m: Msg) => m.type === type && m.source === source && m.label === label;

test('file sources: hello, filtered scores, Speech and Sine wave events, malformed messages, token auth', async () => {
  const d = await startDaemonProcess(
    baseConfig({
      sources: [
        { id: 'speech', kind: 'file', path: join(root, 'speech.wav'), loop: true, realtime: true },
        { id: 'sine', kind: 'file', path: join(root, 'sine.wav'), loop: true, realtime: true },
      ],
      // YAMNet's top label for a pure 1 kHz tone is "Beep, bleep"; "Sine wave" ranks 2nd-3rd around 0.1
      events: { labels: { 'Sine wave': { onThreshold: 0.07, offThreshold: 0.03 } } },
      server: { token: 'e2e-token' },
    }),
    root,
  );
  daemons.push(d);
  await assert.rejects(connect(d.ws), /401/);
  await assert.rejects(connect(`${d.ws}?token=wrong`), /401/);

  const voice = await connect(d.ws, { authorization: 'Bearer e2e-token' });
  const hello = await voice.waitFor((m) => m.type === 'hello');
  assert.deepEqual(
    (hello.sources as { id: string }[]).map((s) => s.id),
    ['speech', 'sine'],
  );
  const models = hello.models as { name: string; backend: string; labelCount: number }[];
  assert.equal(models.length, 1);
  assert.equal(models[0]!.labelCount, 521);
  // "Human voice" (an ontology parent, not a YAMNet class) subscribes to Speech and its other descendants
  const ack = await voice.request({ type: 'subscribe', sources: ['speech'], labels: ['/m/09l8g'], topK: 3, kinds: ['scores', 'events'] }, 'subscribed');
  assert.equal(ack.type, 'subscribed', JSON.stringify(ack));

  const tones = await connect(`${d.ws}?token=e2e-token`);
  await tones.request({ type: 'subscribe', labels: ['Sine wave'], minScore: 0.05, kinds: ['events', 'scores'] }, 'subscribed');

  const speechStart = await voice.waitFor(isEvent('event.start', 'speech', 'Speech'));
  const speechEnd = await voice.waitFor((m) => m.type === 'event.end' && m.id === speechStart.id);
  assert.ok((speechEnd.t as number) > (speechStart.start as number));
  assert.ok((speechStart.score as number) >= 0.5);
  const sineStart = await tones.waitFor(isEvent('event.start', 'sine', 'Sine wave'));
  await tones.waitFor((m) => m.type === 'event.end' && m.id === sineStart.id);

  const vScores = voice.messages.filter((m) => m.type === 'scores');
  assert.ok(vScores.length > 0);
  assert.ok(
    vScores.every((m) => m.source === 'speech'),
    'only the subscribed source',
  );
  const humanVoice = new Set([
    'Speech',
    'Male speech, man speaking',
    'Female speech, woman speaking',
    'Child speech, kid speaking',
    'Conversation',
    'Narration, monologue',
    'Babbling',
    'Speech synthesizer',
    'Shout',
    'Bellow',
    'Whoop',
    'Yell',
    'Children shouting',
    'Screaming',
    'Whispering',
    'Laughter',
    'Baby laughter',
    'Giggle',
    'Snicker',
    'Belly laugh',
    'Chuckle, chortle',
    'Crying, sobbing',
    'Baby cry, infant cry',
    'Whimper',
    'Wail, moan',
    'Sigh',
    'Singing',
    'Choir',
    'Yodeling',
    'Chant',
    'Mantra',
    'Child singing',
    'Synthetic singing',
    'Rapping',
    'Humming',
    'Groan',
    'Grunt',
    'Whistling',
    'Male singing',
    'Female singing',
  ]);
  for (const m of vScores) {
    const top = m.top as { label: string }[];
    assert.ok(top.length <= 3);
    for (const l of top) assert.ok(humanVoice.has(l.label), `${l.label} is not under Human voice`);
  }
  assert.ok(vScores.some((m) => (m.top as { label: string }[])[0]!.label === 'Speech'));
  const tScores = tones.messages.filter((m) => m.type === 'scores');
  assert.ok(tScores.every((m) => (m.top as { label: string; score: number }[]).every((l) => l.label === 'Sine wave' && l.score >= 0.05)));
  assert.ok(!voice.messages.some((m) => m.type === 'status'), 'status was not among the subscribed kinds');

  for (const bad of ['{"type":"subscribe","labels":', '{"type":"dance"}', '{"type":"subscribe","sources":["nowhere"]}']) {
    const e = await voice.request(bad, 'error');
    assert.equal(e.type, 'error');
    assert.equal(e.code, 'PROTOCOL_ERROR');
  }
  assert.equal((await voice.request({ type: 'ping', id: 1 }, 'pong')).id, 1, 'the connection survived');

  const health = await httpGet(`${d.http}/healthz?token=e2e-token`);
  assert.equal(health.status, 200);
  const h = JSON.parse(health.body) as { sources: { id: string; state: string; backend: string }[] };
  assert.deepEqual(
    h.sources.map((s) => s.id),
    ['speech', 'sine'],
  );
  // the padded files are silent for 3 s of every loop: live either way
  assert.ok(
    h.sources.every((s) => ['up', 'silent'].includes(s.state) && s.backend.startsWith('onnx')),
    JSON.stringify(h.sources),
  );
  const metrics = (await httpGet(`${d.http}/metrics?token=e2e-token`)).body;
  assert.match(metrics, /earshot_patches_total\{source="speech"\} [1-9]/);
  assert.match(metrics, /earshot_inference_seconds_count\{source="sine"\} [1-9]/);
  assert.match(metrics, /earshot_subscribers 2/);

  // SIGHUP re-reads the config file: the new token applies to new connections, clients stay
  const cfg = parseYaml(readFileSync(d.configPath, 'utf8')) as { server: { token: string } };
  cfg.server.token = 'rotated';
  writeFileSync(d.configPath, stringifyYaml(cfg));
  d.child.kill('SIGHUP');
  while (!/configuration reloaded/.test(d.stderr())) await new Promise((r) => setTimeout(r, 50));
  await assert.rejects(connect(`${d.ws}?token=e2e-token`), /401/);
  const rotated = await connect(`${d.ws}?token=rotated`);
  await rotated.waitFor((m) => m.type === 'hello');
  assert.equal((await voice.request({ type: 'ping', id: 2 }, 'pong')).id, 2, 'connected clients survive the reload');
  assert.equal(await d.stop(), 0);
  assert.match(d.stderr(), /SIGTERM: stopping/);
});

test('microphone through the real arecord: speech events, silence reported, device loss and return', async () => {
  await alsa.writeInfile(speechPcm);
  const d = await startDaemonProcess(baseConfig({ sources: [{ id: 'mic', kind: 'mic', device: alsa.pcmName, recorder: 'arecord' }] }), root, {
    env: { ...alsa.env, PATH: `${pacedArecordDir(root)}:${process.env.PATH}`, EARSHOT_TEST_MIC_SPEEDUP: '4' },
  });
  daemons.push(d);
  const c = await connect(d.ws);
  await c.request({ type: 'subscribe', labels: ['Speech'], kinds: ['events', 'status'] }, 'subscribed');
  const start = await c.waitFor(isEvent('event.start', 'mic', 'Speech'));
  await c.waitFor((m) => m.type === 'event.end' && m.id === start.id);
  // past the end of the infile the ALSA file PCM delivers zeros: a live but silent mic
  await c.waitFor((m) => m.type === 'status' && m.state === 'silent');
  assert.equal((await httpGet(`${d.http}/healthz`)).status, 200, 'silent is not dead');

  // unplug: the capture data disappears and the running recorder dies
  const from = c.messages.length;
  await alsa.removeInfile();
  const recorders = childPids(d.child.pid!, 'arecord');
  assert.ok(recorders.length > 0, 'the daemon runs arecord');
  for (const pid of recorders) process.kill(pid, 'SIGTERM');
  const down = await c.waitFor((m) => m.type === 'status' && m.state === 'down', 20_000, from);
  assert.ok(['MIC_FAILED', 'MIC_DEVICE_NOT_FOUND'].includes((down.error as { code: string }).code), JSON.stringify(down));
  await c.waitFor((m) => m.type === 'status' && m.state === 'down' && (m.error as { code: string }).code === 'MIC_DEVICE_NOT_FOUND', 20_000, from);
  assert.equal((await httpGet(`${d.http}/healthz`)).status, 503);

  // plug back in
  await alsa.writeInfile(speechPcm);
  const up = await c.waitFor((m) => m.type === 'status' && m.state === 'up', 20_000, from);
  assert.ok((up.gapSeconds as number) > 0 && (up.gapSeconds as number) <= 5, `back up after ${up.gapSeconds} s`);
  assert.ok((up.restarts as number) >= 2);
  const again = await c.waitFor((m) => m.type === 'event.start' && m.id !== start.id, 20_000, from);
  assert.equal(again.label, 'Speech');
  assert.ok((again.start as number) > (start.start as number), 'stream time continues across the restart');
  assert.equal(d.child.exitCode, null, 'no crash');
  assert.equal((await httpGet(`${d.http}/healthz`)).status, 200);
  assert.match((await httpGet(`${d.http}/metrics`)).body, /earshot_source_restarts_total\{source="mic"\} [2-9]/);
  assert.equal(await d.stop(), 0);
});

test('a stalled client does not slow the others; its drops are counted in /metrics and its stats', async () => {
  const d = await startDaemonProcess(
    baseConfig({
      sources: [{ id: 'fast', kind: 'file', path: join(root, 'speech.wav'), loop: true, realtime: false }],
      server: { clientQueueMessages: 32, stalledDisconnectSeconds: 600, heartbeatSeconds: 600 },
    }),
    root,
  );
  daemons.push(d);
  const fast = await connect(d.ws);
  const slow = await connect(d.ws);
  // every label in every message (~25 kB each) so the stalled socket's buffers fill quickly
  await fast.request({ type: 'subscribe', topK: 1000 }, 'subscribed');
  // Scores only: they are what a full queue drops. With events too, a fast-looping file soon fills the
  // stalled queue with undroppable events and the client is cut off (test/server/queue.test.ts, server.test.ts)
  // before its stats can be read here.
  await slow.request({ type: 'subscribe', topK: 1000, kinds: ['scores'] }, 'subscribed');
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  let drops = 0;
  while (drops === 0) {
    await new Promise((r) => setTimeout(r, 200));
    drops = Number(/earshot_queue_drops_total (\d+)/.exec((await httpGet(`${d.http}/metrics`)).body)?.[1] ?? 0);
  }
  // the other client keeps receiving while the stalled one drops
  const before = fast.messages.length;
  await fast.waitFor((m) => m.type === 'scores', 20_000, before + 50);
  const stats = await fast.request({ type: 'stats' }, 'stats');
  assert.equal(stats.dropped, 0);
  const h = JSON.parse((await httpGet(`${d.http}/healthz`)).body) as { clients: { dropped: number; queued: number }[] };
  const stalled = h.clients.filter((c) => c.dropped > 0);
  assert.equal(stalled.length, 1, JSON.stringify(h.clients));
  assert.ok(stalled[0]!.queued <= 32, 'its queue stays bounded');
  assert.equal(await d.stop(), 0);
});

test('url (ffmpeg over HTTP) and stdin sources: events from both, ended when the input ends', async (t) => {
  const wav = readFileSync(join(root, 'speech.wav'));
  const http = createServer((_req, res) => res.writeHead(200, { 'content-type': 'audio/wav' }).end(wav));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => http.close(() => resolve())));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/speech.wav`;
  const d = await startDaemonProcess(
    baseConfig({
      sources: [
        { id: 'net', kind: 'url', url },
        { id: 'pipe', kind: 'stdin', sampleRateHz: 16000 },
      ],
    }),
    root,
    { stdin: 'pipe' },
  );
  daemons.push(d);
  d.child.stdin!.end(readFileSync(join(root, 'speech.raw')));
  const c = await connect(d.ws);
  await c.request({ type: 'subscribe', kinds: ['status'] }, 'subscribed');
  // both inputs are finite: wait until each has ended (hello may already say so)
  const hello = c.messages.find((m) => m.type === 'hello')!;
  const ended = new Set((hello.sources as { id: string; state: string }[]).filter((s) => s.state === 'ended').map((s) => s.id));
  while (ended.size < 2) ended.add((await c.waitFor((m) => m.type === 'status' && m.state === 'ended' && !ended.has(m.source as string))).source as string);
  await c.request({ type: 'subscribe', labels: ['Speech'], kinds: ['events'], since: 0 }, 'subscribed');
  await c.request({ type: 'ping' }, 'pong');
  const ev = c.messages.filter((m) => m.type.startsWith('event.'));
  for (const src of ['net', 'pipe']) {
    assert.deepEqual(
      ev.filter((m) => m.source === src).map((m) => m.type),
      ['event.start', 'event.end'],
      `${src}: ${JSON.stringify(ev)}`,
    );
  }
  const h = await httpGet(`${d.http}/healthz`);
  assert.equal(h.status, 200, 'ended inputs are not failures');
  assert.equal(await d.stop(), 0);
});

test('earshot run --once exits by itself (code 0) when every source has ended', async () => {
  const r = await runCli(['run', '--source', `file:${join(root, 'speech.wav')}`, '--fast', '--once', '--model', model, '--port', '0'], { env: { EARSHOT_CONFIG: '' } });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^earshot listening on ws:\/\/127\.0\.0\.1:\d+\//);
  assert.match(r.stderr, /source file \(file .*speech\.wav\): ended/);
  assert.match(r.stderr, /all sources ended: stopping/);
});

test('earshot run with a misspelt events.labels key exits 2 before listening, suggesting the label', async () => {
  const cfgPath = join(root, 'speach.yaml');
  writeFileSync(cfgPath, stringifyYaml(baseConfig({ events: { labels: { Speach: { onThreshold: 0.6 } } } })));
  const r = await runCli(['--config', cfgPath, 'run', '--source', `file:${join(root, 'speech.wav')}`, '--fast', '--once', '--port', '0']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error \[CONFIG_INVALID\]: events\.labels: "Speach" .*did you mean "Speech"\?/);
  assert.doesNotMatch(r.stdout, /listening/);
});

test('earshot run --once with a missing file exits 2 with the error instead of retrying', async () => {
  const r = await runCli(['run', '--source', 'file:/nonexistent/missing.wav', '--once', '--model', model, '--port', '0'], { env: { EARSHOT_CONFIG: '' } });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /source file \(file \/nonexistent\/missing\.wav\): failed: \[AUDIO_FILE_NOT_FOUND\]/);
  assert.match(r.stderr, /error \[AUDIO_FILE_NOT_FOUND\]: source file: .*missing\.wav/);
  assert.doesNotMatch(r.stderr, /retry in/);
});

test('earshot run --print json --print-scores writes events and top labels to stdout', async () => {
  const r = await runCli(['run', '--source', `file:${join(root, 'speech.wav')}`, '--fast', '--once', '--model', model, '--port', '0', '--print', 'json', '--print-scores'], {
    env: { EARSHOT_CONFIG: '' },
  });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, /^earshot listening on/);
  const msgs = lines.slice(1).map((l) => JSON.parse(l) as { type: string; label?: string; start: number; end: number; top?: unknown[] });
  const start = msgs.find((m) => m.type === 'event.start' && m.label === 'Speech');
  assert.ok(start, r.stdout);
  assert.ok(msgs.some((m) => m.type === 'event.end' && m.label === 'Speech'));
  const scores = msgs.filter((m) => m.type === 'scores');
  assert.ok(scores.length > 5 && scores.every((m) => m.top!.length === 5 && m.end > m.start));
});
