import assert from 'node:assert/strict';
import { test } from 'node:test';

import { frontendSchema } from '../../src/config/sections/frontend.js';
import { computeLogMelPatches } from '../../src/features/index.js';
import { YAMNET_FRONTEND } from '../../src/models/yamnet/import.js';
import { padWaveformForYamnet } from '../../src/models/yamnet/pad.js';

const fe = frontendSchema.parse(YAMNET_FRONTEND);

/** yamnet.py pad_waveform at 16 kHz, transcribed with its integer constants (15,600 and 7,680 samples). */
function yamnetPy(n: number): number {
  const min = 15600;
  const hop = 7680;
  let pad = Math.max(0, min - n);
  const m = Math.max(n, min);
  const after = m - min;
  const hops = Math.ceil(after / hop);
  pad += hop * hops - after;
  return n + pad;
}

test('padding matches yamnet.py pad_waveform and always gives 1 + ceil((n - 15600) / 7680) patches', () => {
  for (const n of [1, 400, 15_599, 15_600, 15_601, 23_280, 23_281, 48_000, 160_000, 160_001]) {
    const x = new Float32Array(n).fill(0.25);
    const padded = padWaveformForYamnet(x, 16000, fe);
    assert.equal(padded.length, yamnetPy(n), `n=${n}`);
    assert.ok(padded.subarray(0, n).every((v) => v === 0.25), 'signal kept');
    assert.ok(padded.subarray(n).every((v) => v === 0), 'zeros appended');
    const patches = computeLogMelPatches(padded, 16000, fe);
    assert.equal(patches.count, 1 + Math.max(0, Math.ceil((n - 15_600) / 7_680)), `patches for n=${n}`);
  }
  const exact = new Float32Array(15_600 + 7_680);
  assert.equal(padWaveformForYamnet(exact, 16000, fe), exact, 'already whole: no copy');
  const f64 = padWaveformForYamnet(new Float64Array(10), 16000, fe);
  assert.ok(f64 instanceof Float64Array);
  assert.equal(f64.length, 15_600);
});

test('at other rates the padded duration is the same in seconds (rounded up)', () => {
  for (const sr of [8000, 22050, 44100, 48000]) {
    const padded = padWaveformForYamnet(new Float32Array(Math.round(sr * 0.3)), sr, fe);
    assert.equal(padded.length, Math.ceil(0.975 * sr - 1e-6), `sr=${sr}`);
    const two = padWaveformForYamnet(new Float32Array(Math.round(sr * 1.2)), sr, fe);
    assert.equal(two.length, Math.ceil(0.975 * sr - 1e-6) + Math.round(0.48 * sr), `sr=${sr}`);
  }
});
