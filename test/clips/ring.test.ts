import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SampleRing } from '../../src/clips/ring.js';
import { rng } from '../helpers/rng.js';

const ramp = (from: number, n: number) => Float32Array.from({ length: n }, (_, i) => from + i);

test('ring: holds exactly the last capacity samples by absolute index, across wrap-arounds', () => {
  const r = new SampleRing(1); // 1 s at 100 Hz = 100 samples
  const rand = rng(7);
  let at = 0;
  for (let k = 0; k < 50; k++) {
    const n = 1 + Math.floor(rand() * 37);
    r.push(ramp(at, n), at, 100);
    at += n;
    assert.equal(r.endSample, at);
    assert.equal(r.startSample, Math.max(0, at - 100));
    const from = Math.max(0, at - 100) + Math.floor(rand() * 20);
    const got = r.read(from, at - 3);
    assert.equal(got.start, from);
    assert.deepEqual(Array.from(got.samples), Array.from(ramp(from, at - 3 - from)));
  }
  assert.equal(r.bytes, 400, 'bounded: capacity * 4 bytes whatever was pushed');
});

test('ring: a read is clamped to what is held; a chunk larger than the ring keeps its tail', () => {
  const r = new SampleRing(1);
  r.push(ramp(0, 250), 0, 100);
  const got = r.read(0, 1000);
  assert.equal(got.start, 150);
  assert.deepEqual(Array.from(got.samples), Array.from(ramp(150, 100)));
});

test('ring: a gap in the stream (restart) or a new rate clears it', () => {
  const r = new SampleRing(1);
  r.push(ramp(0, 50), 0, 100);
  r.push(ramp(80, 10), 80, 100);
  assert.equal(r.startSample, 80);
  assert.deepEqual(Array.from(r.read(0, 90).samples), Array.from(ramp(80, 10)));
  r.push(ramp(90, 10), 90, 200);
  assert.equal(r.startSample, 90);
  assert.equal(r.bytes, 800);
});
