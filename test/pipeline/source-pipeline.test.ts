import assert from 'node:assert/strict';
import { test } from 'node:test';

import { asyncScheduler, defer, lastValueFrom, Observable, toArray } from 'rxjs';

import type { AudioChunk } from '../../src/audio/contracts.js';
import { chunkAudio } from '../../src/audio/file-source.js';
import { parseConfig } from '../../src/config/load.js';
import { frontendSchema } from '../../src/config/sections/frontend.js';
import { EarshotError, isEarshotError } from '../../src/errors.js';
import { logMelPatches } from '../../src/features/patches.js';
import { liveSource } from '../../src/pipeline/flow.js';
import { restartDelaySeconds, SilenceTracker } from '../../src/pipeline/silence.js';
import { createSourcePipeline, type SourceOutput } from '../../src/pipeline/source-pipeline.js';
import { energyTagger, toneBursts } from './fakes.js';

const RATE = 16000;
const config = parseConfig({
  events: { minDurationSeconds: 0.9, mergeGapSeconds: 0.5 },
  supervision: { restartInitialSeconds: 0.01, restartMaxSeconds: 0.05, silenceSeconds: 1 },
});

function pipeline(open: () => Observable<AudioChunk>) {
  const tagger = energyTagger();
  const frontend = frontendSchema.parse({ ...config.frontend, ...tagger.frontend });
  return createSourcePipeline({ id: 'src', source: liveSource(open), tagger, frontend }, { supervision: config.supervision, events: config.events, scheduler: asyncScheduler, patches: logMelPatches });
}

const summary = (outs: SourceOutput[]) => outs.flatMap((o) => (o.kind === 'status' ? [`status:${o.status.state}`] : o.kind === 'event' ? [`${o.event.type}:${o.event.label}`] : []));

test('audio -> real log-mel frontend -> tagger -> events, with stream timestamps', async () => {
  // 3 s quiet, 4 s loud, 3 s quiet: one Loud event around 3..7 s
  const audio = toneBursts(RATE, [
    [3, 0.001],
    [4, 0.5],
    [3, 0.001],
  ]);
  const p = pipeline(() => chunkAudio({ samples: audio, sampleRateHz: RATE, channels: 1 }));
  const outs = await lastValueFrom(p.output.pipe(toArray()));
  const loud = outs.filter((o) => o.kind === 'event' && o.event.label === 'Loud').map((o) => (o as Extract<SourceOutput, { kind: 'event' }>).event);
  assert.deepEqual(
    loud.map((e) => e.type),
    ['event.start', 'event.end'],
  );
  assert.equal(loud[0]!.id, loud[1]!.id);
  assert.ok(loud[0]!.startSeconds > 2 && loud[0]!.startSeconds < 4, `onset ${loud[0]!.startSeconds}`);
  assert.ok(loud[1]!.tSeconds > 6 && loud[1]!.tSeconds < 8.5, `offset ${loud[1]!.tSeconds}`);
  const frames = outs.filter((o) => o.kind === 'frame').map((o) => (o as Extract<SourceOutput, { kind: 'frame' }>).frame);
  assert.ok(frames.length >= 18, `${frames.length} frames for 10 s at 0.48 s hops`);
  for (let i = 1; i < frames.length; i++) assert.ok(Math.abs(frames[i]!.tSeconds - frames[i - 1]!.tSeconds - 0.48) < 1e-6);
  assert.equal(summary(outs)[0], 'status:starting');
  assert.equal(summary(outs)[1], 'status:up');
  assert.equal(summary(outs).at(-1), 'status:ended');
  const audioOut = outs.filter((o) => o.kind === 'audio');
  assert.ok(Math.abs((audioOut.at(-1) as { streamSeconds: number }).streamSeconds - 10) < 1e-6);
});

test('a failing source is restarted with backoff: down (with the error) then up with the gap; stream time keeps rising', async () => {
  let opens = 0;
  const loud = toneBursts(RATE, [[2, 0.5]]);
  const open = () =>
    defer(() => {
      opens++;
      if (opens === 2 || opens === 3) return new Observable<AudioChunk>((s) => s.error(new EarshotError('MIC_DEVICE_NOT_FOUND', 'device gone')));
      return chunkAudio({ samples: loud, sampleRateHz: RATE, channels: 1 }).pipe(
        (src) =>
          // the first attempt dies after its audio: the device "disappears"
          new Observable<AudioChunk>((s) =>
            src.subscribe({ next: (c) => s.next(c), error: (e) => s.error(e), complete: () => (opens < 4 ? s.error(new EarshotError('MIC_FAILED', 'arecord exited')) : s.complete()) }),
          ),
      );
    });
  const p = pipeline(open);
  const outs = await lastValueFrom(p.output.pipe(toArray()));
  const statuses = outs.filter((o) => o.kind === 'status').map((o) => (o as Extract<SourceOutput, { kind: 'status' }>).status);
  assert.deepEqual(
    statuses.map((s) => [s.state, s.error?.code ?? null]),
    [
      ['starting', null],
      ['up', null],
      ['down', 'MIC_FAILED'],
      ['down', 'MIC_DEVICE_NOT_FOUND'],
      ['down', 'MIC_DEVICE_NOT_FOUND'],
      ['up', null],
      ['ended', null],
    ],
  );
  const up2 = statuses[5]!;
  assert.ok(up2.gapSeconds !== undefined && up2.gapSeconds > 0);
  assert.equal(up2.restarts, 3);
  const retries = outs.flatMap((o) => (o.kind === 'status' && o.status.retryInSeconds !== undefined ? [o.status.retryInSeconds] : []));
  assert.deepEqual(retries, [0.01, 0.02, 0.04], 'exponential backoff');
  // the open event is closed when the source goes down, and a new one opens after the restart
  assert.deepEqual(
    summary(outs).filter((s) => !s.startsWith('status')),
    ['event.start:Loud', 'event.end:Loud', 'event.start:Loud', 'event.end:Loud'],
  );
  const ts = outs.flatMap((o) => (o.kind === 'frame' ? [o.frame.tSeconds] : []));
  for (let i = 1; i < ts.length; i++) assert.ok(ts[i]! > ts[i - 1]!, 'stream time increases across restarts');
});

test('flat input is reported silent (not down), then up again when sound returns', async () => {
  const audio = toneBursts(RATE, [
    [1, 0.5],
    [2, 0],
    [1, 0.5],
  ]);
  const outs = await lastValueFrom(pipeline(() => chunkAudio({ samples: audio, sampleRateHz: RATE, channels: 1 })).output.pipe(toArray()));
  assert.deepEqual(
    summary(outs).filter((s) => s.startsWith('status')),
    ['status:starting', 'status:up', 'status:silent', 'status:up', 'status:ended'],
  );
});

test('stop() closes open events and completes with stopped', async () => {
  const audio = toneBursts(RATE, [[3, 0.5]]);
  const p = pipeline(() => chunkAudio({ samples: audio, sampleRateHz: RATE, channels: 1 }, { loop: true, realtime: true }));
  const outs: SourceOutput[] = [];
  await new Promise<void>((resolve) => {
    p.output.subscribe({
      next: (o) => {
        outs.push(o);
        if (o.kind === 'event' && o.event.type === 'event.start') p.stop();
      },
      complete: resolve,
    });
  });
  assert.deepEqual(summary(outs).slice(-3), ['event.start:Loud', 'event.end:Loud', 'status:stopped']);
});

test('backoff is capped and silence needs its full duration', () => {
  assert.deepEqual(
    [0, 1, 2, 3, 10].map((f) => restartDelaySeconds(f, 0.5, 3)),
    [0.5, 1, 2, 3, 3],
  );
  const t = new SilenceTracker(-70, 1);
  const quiet = { samples: new Float32Array(8000), sampleRateHz: 16000, startSample: 0 };
  assert.equal(t.push(quiet), undefined);
  assert.equal(t.push(quiet), 'silent');
  assert.equal(t.push(quiet), undefined);
  assert.equal(t.push({ ...quiet, samples: new Float32Array(8000).fill(0.1) }), 'sound');
});

test('an event override naming no label fails at creation with a suggestion, not as a restart loop', () => {
  const tagger = energyTagger();
  const frontend = frontendSchema.parse({ ...config.frontend, ...tagger.frontend });
  const events = parseConfig({ events: { labels: { Lowd: { onThreshold: 0.6 } } } }).events;
  assert.throws(
    () =>
      createSourcePipeline(
        { id: 'src', source: liveSource(() => chunkAudio({ samples: new Float32Array(16000), sampleRateHz: RATE, channels: 1 })), tagger, frontend },
        { supervision: config.supervision, events, scheduler: asyncScheduler, patches: logMelPatches },
      ),
    (e) => isEarshotError(e, 'CONFIG_INVALID') && /"Lowd".*did you mean "Loud"\?/.test(e.message),
  );
  const p = pipeline(() => chunkAudio({ samples: new Float32Array(16000), sampleRateHz: RATE, channels: 1 }));
  assert.throws(
    () => p.setEventsConfig(events),
    (e) => isEarshotError(e, 'CONFIG_INVALID'),
    'a reload with the typo is refused too',
  );
});

test('a stage failing mid-stream restarts the whole chain: after "up" the source tags and segments again', async () => {
  // the tagger dies on its 6th patch (inside a Loud event); every stage must work after the restart
  let calls = 0;
  const base = energyTagger();
  const tagger = {
    ...base,
    openSession: () => {
      const s = base.openSession();
      return { tag: async (p: Parameters<typeof s.tag>[0]) => (++calls === 6 ? Promise.reject(new Error('engine crashed')) : s.tag(p)) };
    },
  };
  const frontend = frontendSchema.parse({ ...config.frontend, ...tagger.frontend });
  const audio = toneBursts(RATE, [
    [4, 0.5],
    [2, 0.001],
  ]);
  const p = createSourcePipeline(
    { id: 'src', source: liveSource(() => chunkAudio({ samples: audio, sampleRateHz: RATE, channels: 1 })), tagger, frontend },
    { supervision: config.supervision, events: config.events, scheduler: asyncScheduler, patches: logMelPatches },
  );
  const outs = await lastValueFrom(p.output.pipe(toArray()));
  const s = summary(outs);
  const down = s.indexOf('status:down');
  assert.ok(down > 0, s.join(' '));
  const after = s.slice(down);
  assert.deepEqual(
    after.filter((x) => x.startsWith('status')),
    ['status:down', 'status:up', 'status:ended'],
  );
  assert.deepEqual(
    after.filter((x) => x.endsWith(':Loud')),
    ['event.start:Loud', 'event.end:Loud'],
    'events flow after the restart',
  );
  const downAt = outs.findIndex((o) => o.kind === 'status' && o.status.state === 'down');
  assert.ok(outs.slice(downAt).filter((o) => o.kind === 'frame').length >= 10, 'frames flow after the restart');
});

test('a missing file is not retried: the source reports failed with the error and completes', async () => {
  const { sourceFromConfig } = await import('../../src/audio/from-config.js');
  const src = parseConfig({ sources: [{ id: 'f', kind: 'file', path: '/nonexistent/missing.wav' }] }).sources[0]!;
  let opens = 0;
  const outs = await lastValueFrom(
    pipeline(() =>
      defer(() => {
        opens++;
        return sourceFromConfig(src);
      }),
    ).output.pipe(toArray()),
  );
  const statuses = outs.flatMap((o) => (o.kind === 'status' ? [[o.status.state, o.status.error?.code ?? null, o.status.retryInSeconds ?? null]] : []));
  assert.deepEqual(statuses, [
    ['starting', null, null],
    ['failed', 'AUDIO_FILE_NOT_FOUND', null],
  ]);
  assert.equal(opens, 1, 'opened once, never retried');
});

test('times: frames carry their window, events start at the first window for sound at 0 s and end within the stream', async () => {
  // loud from the very first sample to the end of a 4.3 s stream
  const audio = toneBursts(RATE, [[4.3, 0.5]]);
  const outs = await lastValueFrom(pipeline(() => chunkAudio({ samples: audio, sampleRateHz: RATE, channels: 1 })).output.pipe(toArray()));
  const frames = outs.flatMap((o) => (o.kind === 'frame' ? [o.frame] : []));
  assert.equal(frames[0]!.startSeconds, 0);
  assert.ok(Math.abs(frames[0]!.tSeconds - 0.975) < 1e-9, `first window ends at ${frames[0]!.tSeconds}`);
  for (const f of frames) assert.ok(f.tSeconds <= 4.3 + 1e-9 && f.startSeconds! < f.tSeconds);
  const loud = outs.flatMap((o) => (o.kind === 'event' && o.event.label === 'Loud' ? [o.event] : []));
  assert.deepEqual(
    loud.map((e) => e.type),
    ['event.start', 'event.end'],
  );
  assert.equal(loud[0]!.startSeconds, 0, 'not one hop late');
  assert.ok(loud[1]!.tSeconds <= 4.3 && loud[1]!.endSeconds === loud[1]!.tSeconds, `end ${loud[1]!.tSeconds}`);
});
