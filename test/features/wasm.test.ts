import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { createLogMelFrontend, frameCount } from '../../src/features/index.js';
import { LOGMEL_WASM_BASE64 } from '../../src/features/wasm/logmel-bytes.js';
import { frontend, testSignal } from './util.js';

const wat = fileURLToPath(new URL('../../src/features/wasm/logmel.wat', import.meta.url));

describe('WebAssembly log-mel kernel', () => {
  test('embedded module is exactly wat2wasm of logmel.wat (Debian package wabt)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-wat-'));
    try {
      const out = join(dir, 'logmel.wasm');
      const r = spawnSync('wat2wasm', [wat, '-o', out], { encoding: 'utf8' });
      assert.equal(r.error, undefined, `wat2wasm not runnable: ${String(r.error)}`);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(readFileSync(out).toString('base64'), LOGMEL_WASM_BASE64);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // [config overrides, engine expected]: FFT sizes 4^k use the kernel, others fall back.
  const cases: [string, Parameters<typeof frontend>[0], 'wasm' | 'js'][] = [
    ['VGGish defaults (fft 512)', {}, 'wasm'],
    ['YAMNet (log offset 0.001)', { logOffset: 0.001, patchHopSeconds: 0.48 }, 'wasm'],
    ['100 ms window (fft 2048), 128 bands', { stftWindowSeconds: 0.1, melBands: 128 }, 'wasm'],
    ['8 kHz, 25 ms window (fft 256)', { sampleRateHz: 8000, melMaxHz: 3800 }, 'js'],
    ['odd window (401 samples)', { stftWindowSeconds: 0.0250625 }, 'js'],
  ];
  for (const [name, overrides, engine] of cases) {
    test(`${name}: ${engine} engine, frames bit-identical to the TypeScript path`, () => {
      const cfg = frontend(overrides);
      const auto = createLogMelFrontend(cfg);
      const js = createLogMelFrontend(cfg, { engine: 'js' });
      assert.equal(auto.engine, engine);
      assert.equal(js.engine, 'js');
      const x = Float64Array.from(testSignal(cfg.sampleRateHz * 4 + 123, cfg.sampleRateHz, 17));
      // Offset start and > 256 frames: exercises the kernel's block staging.
      const offset = 37;
      const n = frameCount(x.length - offset, auto.windowSamples, auto.hopSamples);
      assert.ok(n > 256);
      const a = new Float32Array(n * auto.bands + 5);
      const b = new Float32Array(n * auto.bands + 5);
      auto.computeFrames(x, offset, n, a, 5);
      js.computeFrames(x, offset, n, b, 5);
      assert.deepEqual(a, b);
      assert.ok(a.subarray(5).every(Number.isFinite));
    });
  }
});
