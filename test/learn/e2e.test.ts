import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { loadConfig } from '../../src/config/load.js';
import { type Embedder, openEmbedder } from '../../src/learn/embed.js';
import { saveFeedback } from '../../src/learn/feedback.js';
import { readCustomModel } from '../../src/learn/modeldir.js';
import { customEvents, scoreCustom } from '../../src/learn/tag-file.js';
import { Rng } from '../../src/train/rng.js';
import { type DaemonProcess, startDaemonProcess } from '../e2e/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { projectRoot } from '../helpers/shared.js';
import { TestClient } from '../server/wsclient.js';
import { buildTrainingSet, household, LOOKALIKES, mixAt, playback, RATE, TARGETS, writeWav } from './soundset.js';

/**
 * earshot learn end to end with real sounds (Debian's freedesktop theme played back through
 * sox, espeak-ng speech, sox music and noise): the CLI learns two sounds from 4 recordings
 * each, `tag --model` and the daemon (models.custom beside YAMNet) detect one in a file,
 * and a false alarm filed as background by feedback is gone after `learn --update`.
 */
let root = '';
let data = '';
let model = '';
let doorFile = '';
const daemons: DaemonProcess[] = [];
const clients: TestClient[] = [];
const cfg = loadConfig({});
let emb: Embedder;

async function sceneWith(sound: string, seed: number, path: string, snrDb = 10): Promise<void> {
  const tmp = join(root, 'tmp');
  mkdirSync(tmp, { recursive: true });
  const bg = await household(16, seed, tmp);
  mixAt(bg, await playback(sound, new Rng(seed), tmp), 5 * RATE, snrDb);
  writeWav(path, bg);
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'earshot-learn-e2e-'));
  data = join(root, 'data');
  model = join(root, 'home');
  await buildTrainingSet(data, { perClass: 4, backgroundSeconds: 120, seed: 21, classes: ['doorbell', 'dryer-done'] });
  const r = await runCli(['learn', '--data', data, '--out', model, '--folds', '2'], { timeoutMs: 900_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /doorbell .* threshold/);
  doorFile = join(root, 'door.wav');
  await sceneWith(TARGETS.doorbell!, 5, doorFile, 20);
  emb = await openEmbedder(join(projectRoot, 'models/yamnet'), cfg);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(daemons.map((d) => d.stop()));
  await emb?.dispose();
  rmSync(root, { recursive: true, force: true });
});

test('learn writes the model directory: manifest, head, thresholds, cross-validation report (JSON, Markdown, SVG)', () => {
  for (const f of ['manifest.json', 'head.json', 'report.json', 'report.md', 'report.svg']) assert.ok(existsSync(join(model, f)), f);
  const m = readCustomModel(model);
  assert.deepEqual(
    m.labels.map((l) => l.id),
    ['custom:home/doorbell', 'custom:home/dryer-done'],
  );
  assert.equal(m.manifest.base.architecture, 'yamnet');
  const report = JSON.parse(readFileSync(join(model, 'report.json'), 'utf8')) as {
    folds: number;
    confusion: { labels: string[]; matrix: number[][] };
    classes: Array<{ precision: number; recall: number; threshold: number }>;
  };
  assert.equal(report.folds, 2);
  assert.deepEqual(report.confusion.labels, ['doorbell', 'dryer-done', 'background']);
  assert.equal(report.confusion.matrix.length, 3);
  for (const c of report.classes) assert.ok(c.threshold >= 0.5 && c.threshold <= 0.95 && c.precision >= 0 && c.recall >= 0, JSON.stringify(c));
  assert.match(readFileSync(join(model, 'report.md'), 'utf8'), /\| doorbell \| 4 \|/);
  assert.match(readFileSync(join(model, 'report.svg'), 'utf8'), /^<svg[\s\S]*doorbell[\s\S]*<\/svg>$/);
});

test('tag --model MODELDIR: custom labels per hop and a doorbell event where the doorbell rings', async () => {
  const r = await runCli(['tag', doorFile, '--model', model, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type?: string; label?: string; start: number; top?: Array<{ label: string }> });
  assert.ok(lines.filter((l) => l.top).every((l) => l.top!.every((t) => ['doorbell', 'dryer-done'].includes(t.label))));
  const starts = lines.filter((l) => l.type === 'event.start');
  assert.ok(
    starts.some((e) => e.label === 'doorbell' && e.start >= 4 && e.start <= 7.5),
    r.stdout,
  );
  assert.ok(!starts.some((e) => e.label === 'dryer-done'), 'no dryer-done event in a doorbell scene');
});

test('run: models.custom heads beside YAMNet on one embedding pass; the daemon detects the learned sound live from a file', async () => {
  const d = await startDaemonProcess(
    {
      models: { custom: [model] },
      sources: [{ id: 'hall', kind: 'file', path: doorFile, loop: true, realtime: true }],
      supervision: { restartInitialSeconds: 0.2, restartMaxSeconds: 1, silenceSeconds: 2, stopBudgetSeconds: 5 },
    },
    root,
  );
  daemons.push(d);
  const c = await TestClient.connect(d.ws);
  clients.push(c);
  const hello = await c.waitFor((m) => m.type === 'hello');
  assert.equal((hello.models as Array<{ labelCount: number }>)[0]!.labelCount, 521 + 2);
  await c.request({ type: 'subscribe', labels: ['doorbell', 'Speech'], kinds: ['events', 'scores'] }, 'subscribed');
  const ev = await c.waitFor((m) => m.type === 'event.start' && m.label === 'doorbell', 60_000);
  assert.equal(ev.source, 'hall');
  assert.equal(ev.labelId, 'custom:home/doorbell');
  const scores = c.messages.find((m) => m.type === 'scores') as { top?: Array<{ label: string }>; scores?: unknown } | undefined;
  assert.ok(scores, 'scores for the custom label arrive like any other');
  assert.equal(await d.stop(), 0);
});

test('feedback: a false alarm filed as background disappears after learn --update; the doorbell is still found', async (t) => {
  const m0 = readCustomModel(model);
  const events = async (path: string, m = m0) => {
    const { decodeAudioFile } = await import('../../src/audio/decode.js');
    const a = await decodeAudioFile(path);
    const r = await scoreCustom(m, emb, a.samples);
    return { samples: a.samples, events: (await customEvents(r, cfg.events, emb.hopSeconds)).filter((e) => e.type === 'event.start') };
  };
  // A false alarm the user has seen: the first look-alike scene that fires a learned label.
  let seen: { path: string; label: string; id: string; start: number; end: number; samples: Float32Array } | undefined;
  for (let i = 0; i < LOOKALIKES.length * 2 && !seen; i++) {
    const path = join(root, `look-${i}.wav`);
    await sceneWith(LOOKALIKES[i % LOOKALIKES.length]!, 100 + i, path);
    const r = await events(path);
    const e = r.events[0];
    if (e) seen = { path, label: e.label, id: e.id, start: e.startSeconds, end: e.endSeconds, samples: r.samples };
  }
  if (!seen) return t.skip('no look-alike scene fired: no false alarm to correct');
  // 👎: the event's audio (as its clip would hold it, 0.5 s either side) goes to background/
  const clip = seen.samples.slice(Math.max(0, Math.round((seen.start - 0.5) * RATE)), Math.round((seen.end + 1.5) * RATE));
  const file = await saveFeedback(model, { eventId: seen.id, label: seen.label, correct: false, samples: clip, sampleRateHz: RATE });
  assert.ok(file.startsWith(join(data, 'background')), file);
  assert.ok(readdirSync(join(data, 'background')).some((f) => f.startsWith('feedback-')));
  const u = await runCli(['learn', '--update', model, '--folds', '2'], { timeoutMs: 900_000 });
  assert.equal(u.code, 0, u.stderr);
  const m1 = readCustomModel(model);
  assert.ok(!(await events(seen.path, m1)).events.some((e) => e.label === seen.label), `the ${seen.label} false alarm at ${seen.start}s is gone`);
  assert.ok(
    (await events(doorFile, m1)).events.some((e) => e.label === 'doorbell'),
    'the doorbell is still detected',
  );
});
