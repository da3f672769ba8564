import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { decodeAudioFile } from '../../src/audio/decode.js';
import { createStreamingResampler, kaiserBestKernel, resample, resampleEngine } from '../../src/features/index.js';
import { resampleOne } from '../../src/features/resample.js';
import { makePolyphasePlan } from '../../src/features/resample-wasm.js';
import { RESAMPLE_WASM_BASE64 } from '../../src/features/wasm/resample-bytes.js';
import { sharedPath } from '../helpers/shared.js';
import { chunkSizes, concat, maxAbsDiff, rng, testSignal } from './util.js';

const wat = fileURLToPath(new URL('../../src/features/wasm/resample.wat', import.meta.url));

/** The rate pairs earshot meets: common file rates to 16 kHz, and to 32 kHz for EfficientAT. */
const PAIRS: [number, number][] = [
  [44100, 16000],
  [48000, 16000],
  [22050, 16000],
  [8000, 16000],
  [32000, 16000],
  [16000, 32000],
  [44100, 32000],
];

function noise(n: number, seed: number): Float64Array {
  const r = rng(seed);
  return Float64Array.from({ length: n }, () => r() * 2 - 1);
}

describe('WebAssembly polyphase resampler', () => {
  test('embedded module is exactly wat2wasm of resample.wat (Debian package wabt)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-wat-'));
    try {
      const out = join(dir, 'resample.wasm');
      const r = spawnSync('wat2wasm', [wat, '-o', out], { encoding: 'utf8' });
      assert.equal(r.error, undefined, `wat2wasm not runnable: ${String(r.error)}`);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(out).toString('base64'), RESAMPLE_WASM_BASE64);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('engine: wasm for the common pairs, js when forced, for a huge phase count or a fractional rate', () => {
    for (const [a, b] of PAIRS) assert.equal(resampleEngine(a, b), 'wasm', `${a} -> ${b}`);
    assert.equal(resampleEngine(44100, 16000, { engine: 'js' }), 'js');
    assert.equal(createStreamingResampler(44100, 16000, { engine: 'js' }).engine, 'js');
    assert.equal(createStreamingResampler(44100, 16000).engine, 'wasm');
    // 44100 -> 16001 has 16001 phases of ~280 taps (36 MB): not worth a table.
    assert.equal(resampleEngine(44100, 16001), 'js');
    assert.equal(resampleEngine(44100.5, 16000), 'js');
    // The TypeScript fallback still resamples those.
    assert.equal(resample(new Float32Array(441), 44100, 16001).length, 160);
  });

  for (const [a, b] of PAIRS) {
    test(`${a} -> ${b}: equal to the TypeScript path within 1e-6 (full-scale noise, test signal, odd lengths)`, () => {
      for (const [x, what] of [
        [noise(a * 2 + 7, a + b), 'noise'],
        [testSignal(Math.round(a * 1.3) + 1, a, 3), 'test signal'],
        [noise(301, 9), 'shorter than a window'],
      ] as const) {
        const fast = resample(x, a, b);
        const ref = resample(x, a, b, { engine: 'js' });
        assert.equal(fast.length, ref.length);
        const d = maxAbsDiff(fast, ref);
        // Observed 2e-15 (L = 1, 2) to 2e-11 (L = 160, 320: the TS path rounds t * timeIncrement).
        assert.ok(d <= 1e-6, `${what}: max abs diff ${d}`);
        assert.ok(fast.every(Number.isFinite));
      }
    });
  }

  test('a day into a stream the phase rounding of the TypeScript path is still below 1e-6', () => {
    // Output t of the TS path uses float64(t * timeIncrement), whose rounding error grows with
    // t; the polyphase path uses the exact phase t mod L. Compare single outputs at t = 24 h.
    for (const [a, b] of PAIRS) {
      const k = kaiserBestKernel(a, b);
      const plan = makePolyphasePlan(k);
      assert.ok(plan !== null);
      const t0 = b * 3600 * 24;
      const out = new Float64Array(1);
      let worst = 0;
      for (let t = t0; t < t0 + 500; t++) {
        const x0 = plan.windowStart(t) - 200;
        const x = noise(plan.taps + 400, t);
        plan.compute(t, 1, { x, base: x0 }, Infinity, out, 0);
        worst = Math.max(worst, Math.abs(out[0]! - resampleOne(k, x, x0, Infinity, t)));
      }
      assert.ok(worst <= 1e-6, `${a} -> ${b}: ${worst}`);
    }
  });

  test('VGGish golden inputs at other rates: equal to the TypeScript path within 1e-6', async () => {
    const dir = sharedPath('golden', 'vggish-frontend');
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<string, { wav: string; sample_rate: number }>;
    const cases = Object.values(index).filter((c) => c.sample_rate !== 16000);
    assert.ok(cases.length > 0);
    for (const c of cases) {
      const audio = await decodeAudioFile(join(dir, c.wav));
      for (const target of [16000, 32000]) {
        const fast = resample(audio.samples, audio.sampleRateHz, target);
        const d = maxAbsDiff(fast, resample(audio.samples, audio.sampleRateHz, target, { engine: 'js' }));
        assert.ok(d <= 1e-6, `${c.wav} -> ${target}: ${d}`);
      }
    }
  });

  test('plan blocks: outputs computed in one call equal those computed one at a time', () => {
    // 48 kHz -> 16 kHz stages 4096 outputs per kernel call: 10 s spans several blocks.
    const k = kaiserBestKernel(48000, 16000);
    const plan = makePolyphasePlan(k)!;
    const x = noise(480000, 4);
    const all = resample(x, 48000, 16000);
    const one = new Float64Array(1);
    for (const t of [0, 1, 4095, 4096, 4097, 8191, 8192, 159999]) {
      plan.compute(t, 1, { x, base: 0 }, x.length, one, 0);
      assert.equal(one[0], all[t], `t = ${t}`);
    }
  });

  test('streaming across staging blocks (chunks up to 100,000 samples) equals batch bit for bit', () => {
    const x = noise(48000 * 10 + 5, 8);
    const batch = resample(x, 48000, 16000);
    const r = createStreamingResampler(48000, 16000);
    const outs: Float64Array[] = [];
    let at = 0;
    for (const n of chunkSizes(x.length, { seed: 3, max: 100_000 })) {
      outs.push(r.push(x.subarray(at, at + n)));
      at += n;
    }
    outs.push(r.end());
    assert.deepEqual(concat(outs), batch);
  });
});
