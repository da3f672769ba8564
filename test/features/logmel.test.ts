import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { decodeAudioFile } from '../../src/audio/decode.js';
import { isEarshotError } from '../../src/errors.js';
import { computeLogMelPatches, createMagnitudeFft, frameCount, hertzToMel, melMatrix, periodicHann, sparseMel } from '../../src/features/index.js';
import { sharedPath } from '../helpers/shared.js';
import { frontend, maxAbsDiff, readF32, rng } from './util.js';

interface GoldenCase {
  wav: string;
  logmel: string;
  shape: [number, number, number];
  samples: number;
  sample_rate: number;
  channels: number;
}

describe('VGGish golden log-mel examples (../shared/golden/vggish-frontend)', () => {
  const dir = sharedPath('golden', 'vggish-frontend');
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<string, GoldenCase>;
  const cfg = frontend();
  test('index lists cases including a 0-example file, silence and resampled rates', () => {
    const cases = Object.values(index);
    assert.ok(cases.some((c) => c.shape[0] === 0));
    assert.ok(cases.some((c) => c.sample_rate !== 16000 && c.channels === 2));
  });
  for (const [name, c] of Object.entries(index)) {
    test(`${name}: ${c.sample_rate} Hz x${c.channels} -> [${c.shape.join(',')}] within 1e-4`, async () => {
      const audio = await decodeAudioFile(join(dir, c.wav));
      assert.equal(audio.sampleRateHz, c.sample_rate);
      assert.equal(audio.channels, c.channels);
      assert.equal(audio.samples.length, c.samples);
      const got = computeLogMelPatches(audio.samples, audio.sampleRateHz, cfg);
      const golden = readF32(join(dir, c.logmel));
      assert.deepEqual([got.count, got.frames, got.bands], c.shape);
      assert.equal(got.data.length, golden.length);
      // Observed: 0 (bit-identical float32) for every case but tone44k_stereo, 1.5e-8 (one float32
      // ulp) there from the WebAssembly resampler's summation order; 1e-4 is the contract.
      const diff = maxAbsDiff(got.data, golden);
      assert.ok(diff <= 1e-4, `${name}: max abs diff ${diff}`);
    });
  }
});

describe('log-mel building blocks', () => {
  test('frame counts follow mel_features.frame (no padding)', () => {
    assert.equal(frameCount(399, 400, 160), 0);
    assert.equal(frameCount(400, 400, 160), 1);
    assert.equal(frameCount(559, 400, 160), 1);
    assert.equal(frameCount(560, 400, 160), 2);
    assert.equal(frameCount(15600, 400, 160), 96);
    // 0.9 s: 88 frames < 96 -> no example
    assert.equal(computeLogMelPatches(new Float32Array(14400), 16000, frontend()).count, 0);
    assert.equal(computeLogMelPatches(new Float32Array(100), 16000, frontend()).count, 0);
  });

  test('periodic Hann: 0 at n=0, 1 at N/2, symmetric about N/2', () => {
    const w = periodicHann(400);
    assert.equal(w[0], 0);
    assert.equal(w[200], 1);
    for (let i = 1; i < 200; i++) assert.ok(Math.abs(w[i]! - w[400 - i]!) < 1e-15);
  });

  test('magnitude FFT equals a direct DFT of the windowed, zero-padded frame', () => {
    const r = rng(3);
    const x = Float64Array.from({ length: 1000 }, () => r() * 2 - 1);
    const w = periodicHann(400);
    const fft = createMagnitudeFft(w, 512);
    const mag = new Float64Array(257);
    fft.magnitudes(x, 123, mag);
    for (let k = 0; k <= 256; k++) {
      let re = 0;
      let im = 0;
      for (let j = 0; j < 400; j++) {
        const v = x[123 + j]! * w[j]!;
        re += v * Math.cos((2 * Math.PI * k * j) / 512);
        im -= v * Math.sin((2 * Math.PI * k * j) / 512);
      }
      assert.ok(Math.abs(Math.hypot(re, im) - mag[k]!) < 1e-11, `bin ${k}: ${mag[k]} vs ${Math.hypot(re, im)}`);
    }
  });

  test('magnitude FFT equals a direct DFT for every code path (sizes 4..2048, odd and short windows)', () => {
    const r = rng(9);
    const x = Float64Array.from({ length: 4096 }, () => r() * 2 - 1);
    // n/2 = 4^k uses the fused radix-16 tail; odd log2(n/2) ends with a radix-2 stage;
    // odd window lengths take the plain load instead of the fused first pass.
    for (const [n, wlen] of [
      [4, 3],
      [8, 8],
      [16, 11],
      [32, 32],
      [64, 50],
      [128, 101],
      [256, 256],
      [512, 399],
      [1024, 1000],
      [2048, 1600],
    ] as const) {
      const w = periodicHann(wlen);
      const mag = new Float64Array(n / 2 + 1);
      createMagnitudeFft(w, n).magnitudes(x, 7, mag);
      let worst = 0;
      for (let k = 0; k <= n / 2; k++) {
        let re = 0;
        let im = 0;
        for (let j = 0; j < wlen; j++) {
          const v = x[7 + j]! * w[j]!;
          re += v * Math.cos((2 * Math.PI * k * j) / n);
          im -= v * Math.sin((2 * Math.PI * k * j) / n);
        }
        worst = Math.max(worst, Math.abs(Math.hypot(re, im) - mag[k]!));
      }
      assert.ok(worst < 1e-10, `n=${n} window=${wlen}: max abs error ${worst}`);
    }
  });

  test('FFT sizes that are not powers of two, or shorter than the window, are CONFIG_INVALID', () => {
    assert.throws(
      () => createMagnitudeFft(periodicHann(400), 400),
      (e) => isEarshotError(e, 'CONFIG_INVALID') && /400/.test(e.message),
    );
    assert.throws(
      () => createMagnitudeFft(periodicHann(600), 512),
      (e) => isEarshotError(e, 'CONFIG_INVALID'),
    );
  });

  test('mel matrix: HTK triangles 125-7500 Hz, DC row zero, each bin feeds at most 2 bands', () => {
    const m = melMatrix({ melBands: 64, spectrogramBins: 257, sampleRateHz: 16000, lowerEdgeHz: 125, upperEdgeHz: 7500 });
    for (let b = 0; b < 64; b++) assert.equal(m[b], 0);
    for (let k = 0; k < 257; k++) {
      const hz = k * 31.25;
      let nonZero = 0;
      for (let b = 0; b < 64; b++) if (m[k * 64 + b]! > 0) nonZero++;
      assert.ok(nonZero <= 2, `bin ${k} feeds ${nonZero} bands`);
      if (hz <= 125 || hz >= 7500) assert.equal(nonZero, 0, `bin ${k} (${hz} Hz) outside the edges`);
    }
    assert.ok(Math.abs(hertzToMel(700) - 1127 * Math.log(2)) < 1e-12);
    const sp = sparseMel(m, 257, 64);
    for (let b = 0; b < 64; b++) {
      for (let k = 0; k < 257; k++) {
        const inside = k >= sp.start[b]! && k < sp.end[b]!;
        const v = inside ? sp.weights[sp.offset[b]! + k - sp.start[b]!]! : 0;
        assert.equal(v, m[k * 64 + b]);
      }
    }
  });

  test("TF's linear_to_mel_weight_matrix (YAMNet) is the same matrix up to float32 rounding", () => {
    // tf.signal.linear_to_mel_weight_matrix in float32: linspace over [0, nyquist] minus the DC
    // bin (bands_to_zero = 1), HTK mel, linspace edges, max(0, min(slopes)), DC row padded back.
    const f = Math.fround;
    const melF = (hz: number): number => f(1127 * f(Math.log(f(1 + f(hz / 700)))));
    const edges = Array.from({ length: 66 }, (_, i) => f(melF(125) + f((i * f(melF(7500) - melF(125))) / 65)));
    const tf = new Float64Array(257 * 64);
    for (let k = 1; k < 257; k++) {
      const bm = melF(f(k * f(8000 / 256)));
      for (let b = 0; b < 64; b++) {
        const lo = f(f(bm - edges[b]!) / f(edges[b + 1]! - edges[b]!));
        const up = f(f(edges[b + 2]! - bm) / f(edges[b + 2]! - edges[b + 1]!));
        tf[k * 64 + b] = Math.max(0, Math.min(lo, up));
      }
    }
    const ours = melMatrix({ melBands: 64, spectrogramBins: 257, sampleRateHz: 16000, lowerEdgeHz: 125, upperEdgeHz: 7500 });
    const d = maxAbsDiff(ours, tf);
    // observed 8.2e-6: float32 rounding of mel values ~2800 divided by band widths ~40 mel
    assert.ok(d < 5e-5, `max abs diff ${d}`);
  });
});
