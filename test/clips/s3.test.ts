import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { asyncScheduler } from 'rxjs';

import { sourceFromConfig } from '../../src/audio/from-config.js';
import { parseConfig } from '../../src/config/load.js';
import { logMelPatches } from '../../src/features/patches.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { startDaemon } from '../../src/pipeline/daemon.js';
import { liveSource } from '../../src/pipeline/flow.js';
import { pacedAudio } from '../../src/pipeline/paced-file.js';
import { s3Storage } from '../../src/storage/index.js';
import { tempDir } from '../audio/tmp.js';
import { rng } from '../helpers/rng.js';
import { startS3rver } from '../helpers/s3.js';
import { energyTagger } from '../pipeline/fakes.js';
import { writeWav16 } from './exact.js';

const RATE = 16000;

/** Quiet noise with loud 1 kHz tones at `starts` (1.5 s each). */
function tones(seconds: number, starts: number[]): Float32Array {
  const r = rng(5);
  const out = Float32Array.from({ length: seconds * RATE }, () => (r() - 0.5) * 0.001);
  for (const s of starts) for (let i = s * RATE; i < (s + 1.5) * RATE; i++) out[i]! += 0.5 * Math.sin((2 * Math.PI * 1000 * i) / RATE);
  return out;
}

async function daemon(dir: string, url: string, s3: unknown, src: Float32Array, clips: Record<string, unknown> = {}, realtime = false) {
  writeWav16(
    `${dir}/in.wav`,
    RATE,
    Int16Array.from(src, (v) => Math.round(v * 32767)),
  );
  const config = parseConfig({
    stateDir: dir,
    sources: [{ id: 'door', kind: 'file', path: `${dir}/in.wav`, realtime }],
    server: { port: 0 },
    supervision: { stopBudgetSeconds: 60 },
    storage: s3,
    clips: { preRollSeconds: 1, postRollSeconds: 1, ringMarginSeconds: 30, labels: { include: ['Loud'] }, storageUrl: url, uploadRetryInitialSeconds: 0.2, uploadRetryMaxSeconds: 0.5, ...clips },
  });
  return startDaemon(config, {
    version: 'test',
    openSource: (cfg) =>
      realtime ? liveSource(() => sourceFromConfig(cfg, { scheduler: asyncScheduler })) : pacedAudio(async () => ({ samples: src, sampleRateHz: RATE, channels: 1 }), { loop: false }),
    loadTagger: async () => energyTagger(-3.5),
    patches: logMelPatches,
    history: { path: `${dir}/history.sqlite`, clipsDir: `${dir}/clips` },
  });
}

test('S3 down: finished clips wait in the local spool, are uploaded byte for byte when S3 returns, and are then served from S3', async (t) => {
  const tmp = tempDir('clips-s3');
  t.after(() => tmp.cleanup());
  const srv = await startS3rver();
  t.after(() => srv.stop());
  await srv.kill();
  const d = await daemon(tmp.dir, srv.url('site1/clips'), srv.config, tones(14, [2, 8]));
  t.after(() => d.stop());
  await d.finished;
  await d.clips!.settled();
  const spooled = new Map(readdirSync(tmp.path('clips')).map((f) => [f, readFileSync(tmp.path(`clips/${f}`))]));
  const audio = [...spooled.keys()].filter((f) => f.endsWith('.flac')).sort();
  assert.equal(audio.length, 2, `two clips spooled while S3 is down: ${[...spooled.keys()].join(' ')}`);
  const clipMetrics = async () =>
    (await d.metrics.registry.metrics())
      .split('\n')
      .filter((l) => l.startsWith('earshot_clips_'))
      .join('\n');
  // The first attempt fails after the storage layer's own retries.
  for (let i = 0; i < 300 && !/uploads_total\{result="failed"\} [1-9]/.test(await clipMetrics()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(await clipMetrics(), /earshot_clips_uploads_total\{result="failed"\} [1-9]/);
  assert.match(await clipMetrics(), /earshot_clips_spool_bytes [1-9]/);
  assert.equal(readdirSync(tmp.path('clips')).length, spooled.size, 'nothing left the spool while S3 is down');

  await srv.restart();
  await d.clips!.uploader!.drained();
  assert.deepEqual(readdirSync(tmp.path('clips')), [], 'the spool is empty once uploaded');
  const s3 = s3Storage(srv.url('site1/clips'), srv.config);
  t.after(() => s3.close());
  assert.deepEqual((await s3.list()).sort(), [...spooled.keys()].sort(), 'every file (audio, sidecar, spectrogram) is in the bucket');
  for (const [f, bytes] of spooled) assert.deepEqual(await s3.read(f), bytes, `${f} uploaded byte for byte`);
  assert.match(await clipMetrics(), /earshot_clips_spool_bytes 0/);
  assert.match(await clipMetrics(), /earshot_clips_uploads_total\{result="ok"\} 2/);

  const base = `http://127.0.0.1:${d.address.port}`;
  const full = await fetch(`${base}/clips/${audio[0]}`);
  assert.equal(full.status, 200);
  assert.equal(full.headers.get('content-type'), 'audio/flac');
  assert.deepEqual(Buffer.from(await full.arrayBuffer()), spooled.get(audio[0]!));
  const part = await fetch(`${base}/clips/${audio[1]}`, { headers: { range: 'bytes=10-19' } });
  assert.equal(part.status, 206);
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), spooled.get(audio[1]!)!.subarray(10, 20));
  const none = await fetch(`${base}/clips/nothing.flac`);
  assert.equal(none.status, 404);
  await none.arrayBuffer();
  await d.stop();
  const store = new SqliteHistoryStore(tmp.path('history.sqlite'), { readonly: true });
  t.after(() => store.close());
  assert.equal((await store.clipsInState('done', 10)).length, 2);
});

test('S3 down with a full spool: no new clip is written (counted), the spooled one waits', async (t) => {
  const tmp = tempDir('clips-s3-full');
  t.after(() => tmp.cleanup());
  const srv = await startS3rver();
  t.after(() => srv.stop());
  await srv.kill();
  // Real time, tones 9 s apart: the first clip is finished and spooled before the second event starts.
  const d = await daemon(tmp.dir, srv.url('c'), srv.config, tones(14, [2, 11]), { spoolMaxBytes: 1, ringMarginSeconds: 2 }, true);
  await d.finished;
  await d.clips!.settled();
  const m = await d.metrics.registry.metrics();
  assert.match(m, /earshot_clips_total\{state="done"\} 1/);
  await d.stop();
  assert.match(m, /earshot_clips_dropped_total\{reason="spool_full"\} 1/);
  assert.equal(readdirSync(tmp.path('clips')).filter((f) => f.endsWith('.flac')).length, 1, 'the first clip stays spooled for the next start');
});
