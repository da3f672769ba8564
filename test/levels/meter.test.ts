import assert from 'node:assert/strict';
import { test } from 'node:test';

import { LevelMeter } from '../../src/levels/meter.js';
import { SpectrogramTap } from '../../src/levels/spectrogram.js';
import { rng as seeded } from '../helpers/rng.js';

const sine = (hz: number, amp: number, rate: number, seconds: number) => Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));

test('LevelMeter: one reading per hop; a sine gives its RMS in dBFS, its frequency as centroid, low flatness', () => {
  const m = new LevelMeter('s', 0.5);
  const rate = 16000;
  const x = sine(1000, 0.5, rate, 2);
  // in uneven chunks: hops must not depend on chunking
  const out = [];
  for (let i = 0; i < x.length; i += 1234) out.push(...m.push({ samples: x.subarray(i, i + 1234), sampleRateHz: rate, startSample: i }));
  assert.equal(out.length, 4);
  assert.deepEqual(
    out.map((r) => Math.round(r.tSeconds * 1000)),
    [500, 1000, 1500, 2000],
  );
  for (const r of out) {
    assert.ok(Math.abs(r.rmsDb - 20 * Math.log10(0.5 / Math.SQRT2)) < 0.1, `rms ${r.rmsDb}`);
    assert.ok(Math.abs(r.centroidHz - 1000) < 150, `centroid ${r.centroidHz}`);
    assert.ok(r.flatness < 0.1, `flatness ${r.flatness}`);
    assert.ok(r.loudness > 0);
  }
});

test('LevelMeter: white noise is flat and bright; digital silence is the floor', () => {
  const rng = seeded(7);
  const rate = 16000;
  const noise = Float32Array.from({ length: rate }, () => (rng() * 2 - 1) * 0.3);
  const [n] = new LevelMeter('s', 1).push({ samples: noise, sampleRateHz: rate, startSample: 0 });
  assert.ok(n!.flatness > 0.5, `flatness ${n!.flatness}`);
  assert.ok(n!.centroidHz > 3000, `centroid ${n!.centroidHz}`);
  const [z] = new LevelMeter('s', 1).push({ samples: new Float32Array(rate), sampleRateHz: rate, startSample: 0 });
  assert.equal(z!.rmsDb, -120);
});

test('SpectrogramTap: overlapping patches yield only their new frames, quantised between lo and hi', () => {
  const tap = new SpectrogramTap('s', 0.01, () => 0);
  const bands = 4;
  const patch = (start: number, frames: number) => ({
    index: 0,
    startSeconds: start,
    frames,
    bands,
    data: Float32Array.from({ length: frames * bands }, (_, i) => start * 100 + Math.floor(i / bands)),
  });
  const a = tap.push(patch(0, 10))!;
  assert.equal(a.frames, 10);
  assert.equal(a.data.length, 40);
  assert.equal(a.data[0], 0);
  assert.equal(a.data[39], 255);
  const b = tap.push(patch(0.05, 10))!;
  // frames 0.05..0.14: 0.05..0.09 were sent already
  assert.equal(b.frames, 5);
  assert.ok(Math.abs(b.tSeconds - 0.1) < 1e-9);
  assert.equal(tap.push(patch(0.05, 10)), undefined);
});
