import assert from 'node:assert/strict';
import { test } from 'node:test';

import { from, lastValueFrom, toArray } from 'rxjs';

import type { LabelInfo } from '../../src/classify/contracts.js';
import { eventsSchema } from '../../src/config/sections/events.js';
import { isEarshotError } from '../../src/errors.js';
import { EventSegmenter, resolveThresholds, type ScoreFrame, segmentEvents, smoothScores } from '../../src/events/index.js';

const labels: LabelInfo[] = [
  { index: 0, id: '/m/09x0r', name: 'Speech' },
  { index: 1, id: '/m/01v_m0', name: 'Sine wave' },
];
const HOP = 0.5;

/** Frames at t = HOP, 2 HOP, ... from per-label score sequences. */
function frames(...series: number[][]): ScoreFrame[] {
  const n = series[0]!.length;
  return Array.from({ length: n }, (_, k) => ({
    sourceId: 'mic',
    tSeconds: (k + 1) * HOP,
    scores: Float32Array.from(series.map((s) => s[k]!)),
    labels,
  }));
}

function cfg(over: Record<string, unknown> = {}) {
  return eventsSchema.parse({ onThreshold: 0.5, offThreshold: 0.3, minDurationSeconds: 1.0, mergeGapSeconds: 1.0, ...over });
}

async function run(c: ReturnType<typeof cfg>, fs: ScoreFrame[]) {
  return lastValueFrom(from(fs).pipe(segmentEvents(c, { hopSeconds: HOP }), toArray()));
}

const zeros = (n: number) => new Array<number>(n).fill(0);

test('hysteresis: scores between off and on keep an event alive, below off end it', async () => {
  //             t: .5   1   1.5  2   2.5  3   3.5  4
  const speech = [0.1, 0.6, 0.4, 0.35, 0.2, 0.1, 0.1, 0.1];
  const ev = await run(cfg({ mergeGapSeconds: 0, minDurationSeconds: 0 }), frames(speech, zeros(8)));
  assert.deepEqual(
    ev.map((e) => [e.type, e.label, e.startSeconds, e.tSeconds]),
    [
      ['event.start', 'Speech', 0.5, 0.5],
      ['event.end', 'Speech', 0.5, 2],
    ],
  );
  assert.equal(ev[0]!.id, ev[1]!.id);
  assert.equal(ev[0]!.id, 'mic:0:1');
  assert.ok(Math.abs(ev[1]!.score - 0.6) < 1e-6, 'end carries the peak score');
});

test('a score between off and on never starts an event', async () => {
  const ev = await run(cfg({ minDurationSeconds: 0 }), frames([0.45, 0.49, 0.45, 0.4], zeros(4)));
  assert.deepEqual(ev, []);
});

test('minimum duration: short bursts are never announced, long ones are back-dated', async () => {
  // burst of 1 frame (0.5 s) < 1 s: nothing; then 3 frames (1.5 s): announced on its 2nd frame with onset back-dated
  const speech = [0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1];
  const seg = new EventSegmenter(cfg({ mergeGapSeconds: 0 }), { hopSeconds: HOP });
  const perFrame = frames(speech, zeros(speech.length)).map((f) => seg.push(f));
  const announcedAt = perFrame.findIndex((e) => e.some((x) => x.type === 'event.start'));
  assert.equal(announcedAt, 6, 'start is announced once the event has lasted minDuration');
  const all = perFrame.flat();
  assert.deepEqual(
    all.map((e) => [e.type, e.startSeconds, e.tSeconds]),
    [
      ['event.start', 2.5, 2.5],
      ['event.end', 2.5, 4],
    ],
  );
  assert.equal(all[0]!.id, 'mic:0:2', 'the discarded burst still consumed a sequence number');
});

test('gap merge: a re-start within mergeGap continues the same event; end waits for the gap', async () => {
  //             t: .5   1   1.5  2    2.5  3   3.5  4    4.5  5   5.5  6   6.5  7
  const speech = [0.9, 0.9, 0.1, 0.1, 0.9, 0.9, 0.1, 0.1, 0.1, 0.1, 0.9, 0.9, 0.1, 0.1];
  const seg = new EventSegmenter(cfg({ mergeGapSeconds: 1.0, minDurationSeconds: 0.5 }), { hopSeconds: HOP });
  const perFrame = frames(speech, zeros(speech.length)).map((f) => seg.push(f));
  const all = perFrame.flat();
  assert.deepEqual(
    all.map((e) => [e.type, e.id, e.startSeconds, e.tSeconds]),
    [
      ['event.start', 'mic:0:1', 0, 0],
      ['event.end', 'mic:0:1', 0, 3],
      ['event.start', 'mic:0:2', 5, 5],
    ],
  );
  // the end of the first event (last active 3.0) is emitted once the gap exceeds 1 s: at t = 4.5
  assert.equal(
    perFrame.findIndex((e) => e.some((x) => x.type === 'event.end')),
    8,
  );
  assert.deepEqual(
    seg.flush().map((e) => [e.type, e.id, e.tSeconds]),
    [['event.end', 'mic:0:2', 6]],
  );
});

test('end of stream closes open events, discards pending ones; labels are independent', async () => {
  const speech = [0.9, 0.9, 0.9, 0.9];
  const sine = [0.0, 0.0, 0.0, 0.9];
  const ev = await run(cfg(), frames(speech, sine));
  assert.deepEqual(
    ev.map((e) => [e.type, e.label, e.labelId, e.startSeconds, e.tSeconds]),
    [
      ['event.start', 'Speech', '/m/09x0r', 0, 0],
      ['event.end', 'Speech', '/m/09x0r', 0, 2],
    ],
  );
});

test('per-label overrides by name and by ontology id', async () => {
  const c = cfg({ minDurationSeconds: 0, mergeGapSeconds: 0, labels: { Speech: { onThreshold: 0.8 }, '/m/01v_m0': { onThreshold: 0.2, offThreshold: 0.1 } } });
  const ev = await run(c, frames([0.7, 0.7, 0.0], [0.25, 0.15, 0.05]));
  assert.deepEqual(
    ev.map((e) => [e.type, e.label, e.tSeconds]),
    [
      ['event.start', 'Sine wave', 0],
      ['event.end', 'Sine wave', 1],
    ],
  );
});

test('an override naming no label is a config error naming the key and the closest label, on every frame', () => {
  const seg = new EventSegmenter(cfg({ labels: { Speach: { onThreshold: 0.9 } } }), { hopSeconds: HOP });
  const fs = frames([0.9, 0.9, 0.9], [0, 0, 0]);
  // the second push must fail like the first: a half-initialised segmenter used to emit nothing, silently
  for (const f of fs) {
    assert.throws(
      () => seg.push(f),
      (e) => isEarshotError(e, 'CONFIG_INVALID') && e.message.includes('"Speach"') && e.message.includes('did you mean "Speech"?'),
    );
  }
  assert.throws(
    () => resolveThresholds(cfg({ labels: { Zzzzqqq: {} } }), labels),
    (e) => isEarshotError(e, 'CONFIG_INVALID') && !e.message.includes('did you mean'),
    'no far-fetched suggestion',
  );
});

test('override keys match label names case-insensitively (ids exactly)', () => {
  const th = resolveThresholds(cfg({ labels: { speech: { onThreshold: 0.8 }, 'SINE WAVE': { onThreshold: 0.2, offThreshold: 0.1 } } }), labels);
  assert.deepEqual([...th.on], [0.8, 0.2]);
  assert.throws(
    () => resolveThresholds(cfg({ labels: { '/M/09X0R': {} } }), labels),
    (e) => isEarshotError(e, 'CONFIG_INVALID'),
  );
});

test('a frame with the wrong score count errors the stream', async () => {
  const bad: ScoreFrame = { sourceId: 'mic', tSeconds: 1, scores: new Float32Array(3), labels };
  await assert.rejects(run(cfg(), [bad]), (e) => isEarshotError(e, 'INPUT_INVALID') && e.message.includes('3 scores'));
});

test('setConfig applies new thresholds without losing the open event id', () => {
  const seg = new EventSegmenter(cfg({ minDurationSeconds: 0, mergeGapSeconds: 0 }), { hopSeconds: HOP });
  const fs = frames([0.9, 0.6, 0.6, 0.6], zeros(4));
  assert.equal(seg.push(fs[0]!)[0]!.type, 'event.start');
  assert.deepEqual(seg.push(fs[1]!), []);
  seg.setConfig(cfg({ minDurationSeconds: 0, mergeGapSeconds: 0, offThreshold: 0.7, onThreshold: 0.95 }));
  const end = seg.push(fs[2]!);
  assert.deepEqual(
    end.map((e) => [e.type, e.id, e.tSeconds]),
    [['event.end', 'mic:0:1', 1]],
  );
});

test('smoothing: exponential over stream time, inputs untouched', async () => {
  const fs = frames([1, 0, 0], [0, 0, 0]);
  const out = await lastValueFrom(from(fs).pipe(smoothScores(HOP), toArray()));
  const a = 1 - Math.exp(-1);
  assert.ok(Math.abs(out[1]!.scores[0]! - (1 - a)) < 1e-6);
  assert.ok(Math.abs(out[2]!.scores[0]! - (1 - a) * (1 - a)) < 1e-6);
  assert.equal(fs[1]!.scores[0], 0);
});

test('onsets: the first frame of a stream adds its whole window, later ones the audio after the previous frame', () => {
  const cfg0 = cfg({ minDurationSeconds: 0, mergeGapSeconds: 0 });
  // YAMNet-like: 0.975 s windows every 0.48 s, sound from 0.0 s
  const win = (k: number, s: number): ScoreFrame => ({ sourceId: 'mic', startSeconds: k * 0.48, tSeconds: k * 0.48 + 0.975, scores: Float32Array.from([s, 0]), labels });
  const a = new EventSegmenter(cfg0, { hopSeconds: 0.48 });
  const start = a.push(win(0, 0.9));
  assert.deepEqual(
    start.map((e) => [e.type, e.startSeconds, e.endSeconds]),
    [['event.start', 0, 0.975]],
    'speech at 0.0 s starts at 0.0, not 0.495',
  );
  // a later crossing: attributed to the audio the crossing frame added, after the previous frame's end
  const b = new EventSegmenter(cfg0, { hopSeconds: 0.48 });
  assert.deepEqual(b.push(win(0, 0.1)), []);
  assert.deepEqual(
    b.push(win(1, 0.9)).map((e) => [e.startSeconds, e.endSeconds]),
    [[0.975, 1.455]],
  );
  const end = b.push(win(2, 0.0));
  assert.deepEqual(
    end.map((e) => [e.type, e.startSeconds, e.tSeconds, e.endSeconds]),
    [['event.end', 0.975, 1.455, 1.455]],
  );
  // after a flush (source down) the next frame starts a new stream
  b.flush();
  assert.deepEqual(
    b.push(win(10, 0.9)).map((e) => e.startSeconds),
    [4.8],
  );
});
