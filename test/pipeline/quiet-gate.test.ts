import assert from 'node:assert/strict';
import { test } from 'node:test';

import { asyncScheduler, lastValueFrom, toArray } from 'rxjs';

import { chunkAudio } from '../../src/audio/file-source.js';
import { parseConfig } from '../../src/config/load.js';
import { frontendSchema } from '../../src/config/sections/frontend.js';
import { logMelPatches } from '../../src/features/patches.js';
import { liveSource } from '../../src/pipeline/flow.js';
import { createSourcePipeline, type SourceOutput } from '../../src/pipeline/source-pipeline.js';
import { energyTagger, toneBursts } from './fakes.js';

const RATE = 16000;
const config = parseConfig({ events: { minDurationSeconds: 0.9, mergeGapSeconds: 0.5 } });

async function run(minLevelDb: number | undefined) {
  const calls = { n: 0 };
  const tagger = energyTagger(-4.2, calls);
  const frontend = frontendSchema.parse({ ...config.frontend, ...tagger.frontend });
  // 3 s tone at -9 dBFS, 6 s at -80 dBFS, 3 s tone again
  const audio = toneBursts(RATE, [
    [3, 0.5],
    [6, 0.0001],
    [3, 0.5],
  ]);
  let skipped = 0;
  const p = createSourcePipeline(
    { id: 'src', source: liveSource(() => chunkAudio({ samples: audio, sampleRateHz: RATE, channels: 1 })), tagger, frontend },
    { supervision: config.supervision, events: config.events, scheduler: asyncScheduler, patches: logMelPatches, ...(minLevelDb !== undefined ? { minLevelDb } : {}), onQuietSkip: () => skipped++ },
  );
  const outs = await lastValueFrom(p.output.pipe(toArray()));
  return { outs, calls: calls.n, skipped };
}

const of = <K extends SourceOutput['kind']>(outs: SourceOutput[], kind: K) => outs.filter((o): o is Extract<SourceOutput, { kind: K }> => o.kind === kind);

test('minLevelDb: quiet hops skip the tagger, the source reports quiet then up, and open events end', async () => {
  const open = await run(undefined);
  const gated = await run(-60);
  assert.ok(gated.calls < open.calls - 8, `tagger calls ${gated.calls} gated vs ${open.calls}`);
  assert.equal(gated.skipped, open.calls - gated.calls);
  const states = of(gated.outs, 'status').map((o) => o.status.state);
  // (the silence tracker reports its own silent -> up as well)
  const qu = states.filter((s) => s === 'quiet' || s === 'up').filter((s, i, a) => i === 0 || s !== a[i - 1]);
  assert.deepEqual(qu, ['up', 'quiet', 'up']);
  assert.ok(!of(open.outs, 'status').some((o) => o.status.state === 'quiet'));
  // the first burst's event ends when the room goes quiet; the second burst starts a new one
  const loud = of(gated.outs, 'event')
    .map((o) => o.event)
    .filter((e) => e.label === 'Loud');
  assert.deepEqual(
    loud.map((e) => e.type),
    ['event.start', 'event.end', 'event.start', 'event.end'],
  );
  assert.ok(loud[1]!.tSeconds < 4.5, `first event ended at ${loud[1]!.tSeconds}`);
});

test('levels: one meyda reading per patch hop with the RMS of the audio; spectrogram frames cover the stream once', async () => {
  const { outs } = await run(undefined);
  const levels = of(outs, 'levels').map((o) => o.levels);
  const hop = frontendSchema.parse({ ...config.frontend, ...energyTagger().frontend }).patchHopSeconds;
  assert.equal(levels.length, Math.floor(12 / hop));
  const loud = levels.filter((l) => l.tSeconds < 2.9);
  const quiet = levels.filter((l) => l.tSeconds > 4 && l.tSeconds < 8.9);
  for (const l of loud) assert.ok(Math.abs(l.rmsDb - 20 * Math.log10(0.5 / Math.SQRT2)) < 0.5, `loud ${l.rmsDb}`);
  for (const l of quiet) assert.ok(l.rmsDb < -70, `quiet ${l.rmsDb}`);
  const spec = of(outs, 'spectrogram').map((o) => o.frames);
  const frames = spec.reduce((n, f) => n + f.frames, 0);
  // 10 ms STFT hops over 12 s, less the last partial window
  assert.ok(frames > 1150 && frames <= 1200, `${frames} frames`);
  for (let i = 1; i < spec.length; i++) assert.ok(spec[i]!.tSeconds > spec[i - 1]!.tSeconds + (spec[i - 1]!.frames - 1) * 0.01 - 1e-9);
});
