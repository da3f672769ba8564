import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { asyncScheduler } from 'rxjs';
import { sourceFromConfig } from '../../src/audio/from-config.js';
import { parseConfig } from '../../src/config/load.js';
import { logMelPatches } from '../../src/features/patches.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { startDaemon, type DaemonDeps } from '../../src/pipeline/daemon.js';
import { energyTagger } from '../pipeline/fakes.js';
import { tempDir } from '../audio/tmp.js';
import { clipRate, decodeClip, insertedTone, writeWav16 } from './exact.js';

const RATE = 16000;
const PRE = 1.5;
const POST = 1;

const deps = (): DaemonDeps => ({
  version: 'test',
  openSource: (cfg) => sourceFromConfig(cfg, { scheduler: asyncScheduler }),
  // quiet noise stays at -3.8 mean log-mel, the tone at -3.1
  loadTagger: async () => energyTagger(-3.5),
  patches: logMelPatches,
});

test('clips: a real-time file source; the FLAC clip of an inserted tone equals the source samples over [start - pre, end + post]', async (t) => {
  const tmp = tempDir('clips');
  t.after(() => tmp.cleanup());
  const src = insertedTone(RATE, 8, 2.5, 1.5);
  writeWav16(tmp.path('in.wav'), RATE, src);
  const config = parseConfig({
    stateDir: tmp.path('state'),
    sources: [{ id: 'door', kind: 'file', path: tmp.path('in.wav'), realtime: true }],
    server: { port: 0 },
    clips: { preRollSeconds: PRE, postRollSeconds: POST, ringMarginSeconds: 3, labels: { include: ['Loud'] } },
  });
  const db = tmp.path('state/history.sqlite');
  const d = await startDaemon(config, { ...deps(), history: { path: db, clipsDir: tmp.path('state/clips') } });
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
});
