import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import { createStreamingResampler, kaiserBestKernel, makeResampleKernel, resample, resampledLength } from '../../src/features/index.js';
import { chunkSizes, concat, testSignal } from './util.js';

/** Least-squares amplitude and phase of a sinusoid at freqHz over x[from..to). */
function toneFit(x: Float64Array, sampleRateHz: number, freqHz: number, from: number, to: number): number {
  let c = 0;
  let s = 0;
  for (let i = from; i < to; i++) {
    const w = (2 * Math.PI * freqHz * i) / sampleRateHz;
    c += x[i]! * Math.cos(w);
    s += x[i]! * Math.sin(w);
  }
  return (2 * Math.hypot(c, s)) / (to - from);
}

function rms(x: Float64Array, from: number, to: number): number {
  let e = 0;
  for (let i = from; i < to; i++) e += x[i]! * x[i]!;
  return Math.sqrt(e / (to - from));
}

describe('resampler (resampy kaiser_best)', () => {
  test('output length is int(n * srOut / srIn) as in resampy', () => {
    assert.equal(resampledLength(44100, 44100, 16000), 16000);
    assert.equal(resampledLength(44101, 44100, 16000), 16000);
    assert.equal(resampledLength(7, 8000, 16000), 14);
    assert.equal(resample(new Float32Array(44101), 44100, 16000).length, 16000);
    assert.equal(resample(new Float32Array(2), 44100, 16000).length, 0);
  });

  test('equal rates return an exact float64 copy', () => {
    const x = testSignal(1000, 16000);
    const y = resample(x, 16000, 16000);
    assert.deepEqual(Array.from(y), Array.from(x));
  });

  for (const srIn of [44100, 48000, 22050, 8000]) {
    test(`${srIn} Hz -> 16 kHz keeps a 1 kHz sine (frequency, phase, amplitude)${srIn > 16000 ? ' and removes a 9 kHz tone' : ''}`, () => {
      const n = srIn; // 1 s
      const x = new Float64Array(n);
      const above = srIn > 16000 ? 9000 : 0;
      for (let i = 0; i < n; i++) {
        x[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / srIn) + (above ? 0.3 * Math.sin((2 * Math.PI * above * i) / srIn) : 0);
      }
      const y = resample(x, srIn, 16000);
      assert.equal(y.length, 16000);
      // Away from the edges (the filter's zero padding) the tone must be intact.
      const from = 1000;
      const to = 15000;
      const amp = toneFit(y, 16000, 1000, from, to);
      assert.ok(Math.abs(amp - 0.5) < 1e-3, `1 kHz amplitude ${amp}`);
      // Expected signal at output time t / 16000 s, same phase: residual tiny.
      const expected = new Float64Array(16000);
      for (let t = 0; t < 16000; t++) expected[t] = 0.5 * Math.sin((2 * Math.PI * 1000 * t) / 16000);
      const resid = y.map((v, i) => v - expected[i]!);
      assert.ok(rms(resid, from, to) < 1e-3, `residual rms ${rms(resid, from, to)} (9 kHz must be filtered out)`);
    });
  }

  test('kernels are memoised per rate pair and equal a freshly built one', () => {
    const a = kaiserBestKernel(44100, 16000);
    assert.equal(kaiserBestKernel(44100, 16000), a);
    const fresh = makeResampleKernel(44100, 16000);
    assert.deepEqual(fresh.rows, a.rows);
    // Filling the bounded cache with other rates evicts the oldest entry.
    for (const r of [8000, 22050, 32000, 48000]) kaiserBestKernel(r, 16000);
    assert.notEqual(kaiserBestKernel(44100, 16000), a);
  });

  test('invalid rates are INPUT_INVALID errors naming the rate', () => {
    assert.throws(
      () => resample(new Float32Array(10), 0, 16000),
      (e) => isEarshotError(e, 'INPUT_INVALID') && /0/.test(e.message),
    );
    assert.throws(
      () => createStreamingResampler(44100, Number.NaN),
      (e) => isEarshotError(e, 'INPUT_INVALID'),
    );
  });
});

for (const engine of ['auto', 'js'] as const) {
  describe(`streaming resampler equals batch for any chunking (engine ${engine})`, () => {
    const rates: [number, number][] = [
      [44100, 16000],
      [22050, 16000],
      [8000, 16000],
      [48000, 16000],
      [16000, 16000],
      [32000, 16000],
      [16000, 32000],
      [44100, 32000],
    ];
    const chunkings: (number | { seed: number; max: number })[] = [1, 1000, { seed: 7, max: 3000 }, { seed: 99, max: 17 }];
    for (const [srIn, srOut] of rates) {
      const x = testSignal(Math.round(srIn * 0.7) + 13, srIn, srIn);
      const batch = resample(x, srIn, srOut, { engine });
      for (const c of chunkings) {
        test(`${srIn} -> ${srOut} Hz, chunks ${JSON.stringify(c)}`, () => {
          const r = createStreamingResampler(srIn, srOut, { engine });
          assert.equal(r.engine, srIn === srOut || engine === 'js' ? 'js' : 'wasm');
          const outs: Float64Array[] = [];
          let at = 0;
          for (const n of chunkSizes(x.length, c)) {
            outs.push(r.push(x.subarray(at, at + n)));
            at += n;
          }
          outs.push(r.end());
          const y = concat(outs);
          assert.equal(y.length, batch.length);
          // Bit-identical: same kernel, same summation order.
          assert.deepEqual(y, batch);
          assert.equal(r.emitted, batch.length);
        });
      }
    }

    test('holds back only the output that needs future input', () => {
      const r = createStreamingResampler(44100, 16000, { engine });
      const x = testSignal(44100, 44100);
      const first = r.push(x);
      // Right wing of kaiser_best at this ratio reads ~139 input samples (~51 outputs) ahead.
      assert.ok(first.length > 16000 - 60 && first.length < 16000, `emitted ${first.length}`);
      const tail = r.end();
      assert.equal(first.length + tail.length, 16000);
      assert.throws(
        () => r.push(x),
        (e) => isEarshotError(e, 'STREAM_FAILED'),
      );
    });
  });
}
