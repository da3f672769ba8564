import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { parseConfig } from '../../src/config/load.js';
import { logMelPatches } from '../../src/features/patches.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { type DaemonDeps, startDaemon } from '../../src/pipeline/daemon.js';
import { pacedAudio } from '../../src/pipeline/paced-file.js';
import { tempDir } from '../audio/tmp.js';
import { energyTagger } from '../pipeline/fakes.js';
import { insertedTone } from './exact.js';

const RATE = 16000;

function deps(src: Float32Array, history: DaemonDeps['history']): DaemonDeps {
  return {
    version: 'test',
    openSource: () => pacedAudio(async () => ({ samples: src, sampleRateHz: RATE, channels: 1 }), { loop: false }),
    loadTagger: async () => energyTagger(-3.5),
    patches: logMelPatches,
    ...(history ? { history } : {}),
  };
}

const config = (stateDir: string) =>
  parseConfig({
    stateDir,
    sources: [{ id: 'door', kind: 'file', path: 'in.wav', realtime: false }],
    server: { port: 0 },
    supervision: { stopBudgetSeconds: 60 },
    clips: { preRollSeconds: 1, postRollSeconds: 1, ringMarginSeconds: 60, labels: { include: ['Loud'] } },
  });

test('disk full mid-clip (a 16 KiB tmpfs): the clip is marked failed in history, no partial file, the daemon runs on', { skip: process.getuid?.() !== 0 && 'needs root for mount' }, async (t) => {
  const tmp = tempDir('clips-full');
  const clips = tmp.path('clips');
  mkdirSync(clips);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tmpfs', clips]);
  t.after(() => {
    execFileSync('umount', [clips]);
    tmp.cleanup();
  });
  // a clip of ~4 s of noisy 16-bit audio is ~100 KB of FLAC: it cannot fit
  const src = Float32Array.from(insertedTone(RATE, 8, 2, 1.5), (v) => v / 32768);
  const db = tmp.path('history.sqlite');
  const d = await startDaemon(config(tmp.dir), deps(src, { path: db, clipsDir: clips }));
  await d.finished;
  assert.equal(d.failures().length, 0, 'the source ran to its end');
  await d.stop();

  const store = new SqliteHistoryStore(db);
  t.after(() => store.close());
  const loud = (await store.events({ limit: 20 })).events.filter((e) => e.label === 'Loud');
  assert.equal(loud.length, 1, 'the event is recorded although its clip failed');
  for (const e of loud) {
    const [c] = await store.clipsOf(e.id);
    assert.equal(c?.state, 'failed');
    assert.match(c!.error!, /ENOSPC|no space|exited with/i);
  }
  assert.deepEqual(readdirSync(clips), [], 'no partial clip, part file, sidecar or spectrogram left');
});

test('SIGKILL during a write: on restart the .part file is removed and its history row says failed', async (t) => {
  const tmp = tempDir('clips-kill');
  t.after(() => tmp.cleanup());
  const clips = tmp.path('clips');
  mkdirSync(clips);
  const db = tmp.path('history.sqlite');
  // What a killed run leaves: a 'writing' row and the encoder's .part file.
  const before = new SqliteHistoryStore(db);
  await before.write({
    events: [],
    segments: [],
    clips: [{ id: 'r0_door_0_0', eventId: 'r0/door:0:0', path: 'r0_door_0_0.flac', state: 'writing', startSeconds: 1, endSeconds: null, sampleRateHz: RATE, bytes: 0, error: null }],
  });
  await before.close();
  writeFileSync(`${clips}/r0_door_0_0.flac.part`, Buffer.alloc(1000));

  const quiet = new Float32Array(RATE * 2);
  const d = await startDaemon(config(tmp.dir), deps(quiet, { path: db, clipsDir: clips }));
  await d.finished;
  await d.stop();
  assert.deepEqual(readdirSync(clips), []);
  const store = new SqliteHistoryStore(db);
  t.after(() => store.close());
  const c = await store.clip('r0_door_0_0');
  assert.equal(c?.state, 'failed');
  assert.equal(c?.eventId, 'r0/door:0:0', 'the row written before the kill is completed, not replaced');
  assert.match(c!.error!, /interrupted/);
});
