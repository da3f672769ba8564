import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import wavefile from 'wavefile';

import { importYamnet } from '../../src/models/yamnet/import.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';
import { httpGet, TestClient } from '../server/wsclient.js';
import { type DaemonProcess, startDaemonProcess } from './daemon-process.js';

/** A float WAV with NaN/Inf bursts: every score from `tag` and from the daemon must be a number. */
const root = mkdtempSync(join(tmpdir(), 'earshot-nonfinite-'));
const model = join(root, 'yamnet');
const wav = join(root, 'nan.wav');
let daemon: DaemonProcess | undefined;
let client: TestClient | undefined;

before(() => {
  importYamnet({ tflitePath: sharedPath('models/yamnet/yamnet.tflite'), outDir: model });
  const x = Float64Array.from({ length: 3 * 16000 }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / 16000));
  for (let i = 0; i < x.length; i += 997) x[i] = [NaN, Infinity, -Infinity][i % 3]!;
  const w = new wavefile.WaveFile();
  w.fromScratch(1, 16000, '32f', x as unknown as number[]);
  writeFileSync(wav, w.toBuffer());
});

after(async () => {
  await client?.close();
  await daemon?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('tag: scores are numbers for a float WAV holding NaN and Inf', async () => {
  const r = await runCli(['tag', wav, '--model', model, '--json', '--top', '521']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { top?: { score: unknown }[] });
  const scores = lines.flatMap((l) => l.top ?? []).map((x) => x.score);
  assert.ok(scores.length >= 521);
  assert.ok(
    scores.every((s) => typeof s === 'number' && Number.isFinite(s)),
    `non-numeric scores: ${scores.filter((s) => typeof s !== 'number').length}`,
  );
});

test('daemon: scores messages carry numbers for the same file', async () => {
  daemon = await startDaemonProcess({ models: { yamnetDir: model }, sources: [{ id: 'nan', kind: 'file', path: wav, loop: true, realtime: false }] }, root);
  client = await TestClient.connect(daemon.ws);
  await client.request({ type: 'subscribe', topK: 1000, minScore: 0, kinds: ['scores'] }, 'subscribed');
  for (let i = 0; i < 5; i++) await client.waitFor((m) => m.type === 'scores', 60_000, client.messages.length);
  const scores = client.messages.filter((m) => m.type === 'scores').flatMap((m) => (m.top as { score: unknown }[]).map((x) => x.score));
  assert.ok(scores.length >= 5 * 521);
  assert.ok(scores.every((s) => typeof s === 'number' && Number.isFinite(s)));
  // every NaN/Inf sample the decoder zeroed is counted once per decode of the file (the loop replays the zeroed audio)
  const nonFinite = Math.ceil((3 * 16000) / 997);
  const metrics = await httpGet(`${daemon.http}/metrics`);
  assert.match(metrics.body, new RegExp(`^earshot_nonfinite_samples_total\\{source="nan"\\} ${nonFinite}$`, 'm'));
});
