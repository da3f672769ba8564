import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';

import { asyncScheduler, type MonoTypeOperatorFunction, Observable } from 'rxjs';

import type { AudioChunk } from '../../src/audio/contracts.js';
import { sourceFromConfig } from '../../src/audio/from-config.js';
import { micSource } from '../../src/audio/index.js';
import { parseConfig } from '../../src/config/load.js';
import { logMelPatches } from '../../src/features/patches.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { type DaemonDeps, startDaemon } from '../../src/pipeline/daemon.js';
import { liveSource } from '../../src/pipeline/flow.js';
import { tempDir } from '../audio/tmp.js';
import { createAlsaFixture, spawnWithEnv } from '../helpers/alsa.js';
import { energyTagger } from '../pipeline/fakes.js';
import { clipRate, decodeClip, insertedTone, writeWav16 } from './exact.js';

const RATE = 16000;
const PRE = 1.5;
const POST = 1;

const deps = (): DaemonDeps => ({
  version: 'test',
  openSource: (cfg) => liveSource(() => sourceFromConfig(cfg, { scheduler: asyncScheduler })),
  // quiet noise stays at -3.8 mean log-mel, the tone at -3.1
  loadTagger: async () => energyTagger(-3.5),
  patches: logMelPatches,
});

/** Runs a daemon over `open` with clips on; checks the one Loud event's clip against `src` sample by sample. */
async function assertExactClip(
  t: TestContext,
  src: Int16Array,
  source: Record<string, unknown>,
  open: (cfg: Parameters<DaemonDeps['openSource']>[0]) => ReturnType<typeof sourceFromConfig>,
  clipsExtra: Record<string, unknown> = {},
): Promise<void> {
  const tmp = tempDir('clips');
  t.after(() => tmp.cleanup());
  const config = parseConfig({
    stateDir: tmp.path('state'),
    sources: [source],
    server: { port: 0 },
    // ffmpeg finishing the clip at stop can take seconds on a loaded CI machine
    supervision: { stopBudgetSeconds: 60 },
    clips: { preRollSeconds: PRE, postRollSeconds: POST, ringMarginSeconds: 3, labels: { include: ['Loud'] }, ...clipsExtra },
  });
  const db = tmp.path('state/history.sqlite');
  const d = await startDaemon(config, { ...deps(), openSource: (cfg) => liveSource(() => open(cfg)), history: { path: db, clipsDir: tmp.path('state/clips') } });
  await d.finished;
  await d.stop();
  const store = new SqliteHistoryStore(db);
  t.after(() => store.close());
  const { events } = await store.events({ limit: 10 });
  const loud = events.filter((e) => e.label === 'Loud');
  assert.equal(loud.length, 1, 'one Loud event');
  const quiet = events.filter((e) => e.label === 'Quiet');
  assert.ok(quiet.length >= 1);
  for (const q of quiet) assert.deepEqual(await store.clipsOf(q.id), [], 'clips.labels.include: Quiet gets no clip');
  const ev = loud[0]!;
  assert.equal(ev.label, 'Loud');
  const clips = await store.clipsOf(ev.id);
  assert.equal(clips.length, 1);
  const c = clips[0]!;
  assert.equal(c.state, 'done');
  assert.equal(c.sampleRateHz, RATE);
  const file = tmp.path(`state/clips/${c.path}`);
  assert.ok(existsSync(file));
  assert.equal(clipRate(file), RATE);

  const from = Math.round((ev.startSeconds - PRE) * RATE);
  const to = Math.round((ev.endSeconds! + POST) * RATE);
  const got = decodeClip(file);
  assert.equal(got.length, to - from, 'duration = pre + event + post, to the sample');
  assert.deepEqual(got, src.subarray(from, to), 'every sample equals the source');
  assert.equal(c.startSeconds, from / RATE);
  assert.equal(c.endSeconds, to / RATE);

  const side = JSON.parse(readFileSync(file.replace(/\.flac$/, '.json'), 'utf8'));
  assert.equal(side.event.id, ev.id);
  assert.equal(side.labelId, '/m/fake_loud');
  assert.ok(side.scores.length >= 2 && side.scores.some((s: { score: number }) => s.score > 0.5), 'the label scores over the clip');
}

test('clips: a real-time file source; the FLAC clip of an inserted tone equals the source samples over [start - pre, end + post]', async (t) => {
  const src = insertedTone(RATE, 8, 2.5, 1.5);
  const dir = tempDir('clips-in');
  t.after(() => dir.cleanup());
  writeWav16(dir.path('in.wav'), RATE, src);
  await assertExactClip(t, src, { id: 'door', kind: 'file', path: dir.path('in.wav'), realtime: true }, (cfg) => sourceFromConfig(cfg, { scheduler: asyncScheduler }));
});

test('clips: the ALSA file-PCM microphone (real arecord); the FLAC clip equals the captured samples exactly', async (t) => {
  const src = insertedTone(RATE, 8, 2.5, 1.5, 3);
  const alsa = await createAlsaFixture({ samples: src });
  t.after(() => alsa.cleanup());
  // The file PCM has no clock: capture runs as fast as it is read, so the whole input
  // fits the ring (margin 30 s) and the stream ends after the infile's samples.
  const open = () => micSource({ device: alsa.pcmName, spawnImpl: spawnWithEnv(alsa.env), sampleRateHz: RATE }).pipe(firstSamples(src.length));
  await assertExactClip(t, src, { id: 'mic', kind: 'mic', device: alsa.pcmName }, open, { ringMarginSeconds: 30 });
});

/** The first `n` samples of a stream, then complete (the last chunk cut to fit). */
function firstSamples(n: number): MonoTypeOperatorFunction<AudioChunk> {
  return (src) =>
    new Observable<AudioChunk>((sub) => {
      let seen = 0;
      const inner = src.subscribe({
        next: (c) => {
          const left = n - seen;
          if (left <= 0) return;
          const samples = c.samples.length > left ? c.samples.slice(0, left) : c.samples;
          seen += samples.length;
          sub.next({ ...c, samples });
          if (seen >= n) sub.complete();
        },
        error: (e) => sub.error(e),
        complete: () => sub.complete(),
      });
      return () => inner.unsubscribe();
    });
}
