import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { micSource } from '../../src/audio/index.js';
import { isEarshotError } from '../../src/errors.js';
import { type AlsaFixture, createAlsaFixture, spawnWithEnv } from '../helpers/alsa.js';
import { dominantFrequency, errorOf, knownInt16, takeSamples } from './collect.js';
import { childProcesses, waitNoChild } from './procs.js';

// Real arecord/sox against an ALSA `file` PCM (see test/helpers/alsa.ts): no sound card.
const N = 48_000;
const known = knownInt16(N, 7);
let alsa: AlsaFixture;

before(async () => {
  alsa = await createAlsaFixture({ samples: known });
});
after(async () => {
  await alsa.cleanup();
});

/** Runs `fn` with process.env changed: node-record-lpcm16 spawns with process.env and takes no env option. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

function assertByteExact(samples: Float32Array): void {
  assert.ok(samples.length >= N, `got ${samples.length} samples`);
  for (let i = 0; i < N; i++) {
    if (samples[i]! * 32768 !== known[i]) assert.fail(`sample ${i}: got ${samples[i]! * 32768}, infile has ${known[i]}`);
  }
}

describe('micSource via arecord and an ALSA file PCM', () => {
  test('default path (node-record-lpcm16 record()) delivers the infile byte-exact, x/32768', async () => {
    const got = await withEnv(alsa.env, () => takeSamples(micSource({ device: alsa.pcmName, recorder: 'arecord', sampleRateHz: 16000 }), N));
    assertByteExact(got.samples);
    assert.equal(got.chunks[0]!.startSample, 0);
    for (let i = 1; i < got.chunks.length; i++) {
      assert.equal(got.chunks[i]!.startSample, got.chunks[i - 1]!.startSample + got.chunks[i - 1]!.samples.length);
      assert.equal(got.chunks[i]!.sampleRateHz, 16000);
    }
    assert.deepEqual(await waitNoChild('arecord'), [], 'arecord must be gone (no zombie) after unsubscribe');
  });

  test('spawnImpl path (node-record-lpcm16 recorder command, injected env) is byte-exact too', async () => {
    const got = await takeSamples(micSource({ device: alsa.pcmName, spawnImpl: spawnWithEnv(alsa.env) }), N);
    assertByteExact(got.samples);
    assert.deepEqual(await waitNoChild('arecord'), []);
  });

  test('unsubscribe mid-stream stops arecord with no error and no zombie', async () => {
    let errored: unknown;
    let completed = false;
    await new Promise<void>((resolve) => {
      const sub = micSource({ device: alsa.pcmName, spawnImpl: spawnWithEnv(alsa.env) }).subscribe({
        next: () => {
          sub.unsubscribe();
          resolve();
        },
        error: (e: unknown) => (errored = e),
        complete: () => (completed = true),
      });
    });
    assert.deepEqual(await waitNoChild('arecord'), []);
    // The library's "exited with error code null" string error must not leak anywhere.
    await new Promise((r) => setImmediate(r));
    assert.equal(errored, undefined);
    assert.equal(completed, false);
  });

  test('absent ALSA device -> MIC_DEVICE_NOT_FOUND naming the device (both paths)', async () => {
    const viaLib = await withEnv(alsa.env, () => errorOf(micSource({ device: 'no_such_pcm' })));
    assert.ok(isEarshotError(viaLib, 'MIC_DEVICE_NOT_FOUND'), String(viaLib));
    assert.match(viaLib.message, /no_such_pcm/);
    assert.match(viaLib.message, /Unknown PCM|No such file/);
    const viaSpawn = await errorOf(micSource({ device: 'no_such_pcm', spawnImpl: spawnWithEnv(alsa.env) }));
    assert.ok(isEarshotError(viaSpawn, 'MIC_DEVICE_NOT_FOUND'), String(viaSpawn));
  });

  test('missing infile (unplugged mic) -> MIC_DEVICE_NOT_FOUND; restoring it recovers', async () => {
    const other = await createAlsaFixture();
    try {
      const e = await errorOf(micSource({ device: other.pcmName, spawnImpl: spawnWithEnv(other.env) }));
      assert.ok(isEarshotError(e, 'MIC_DEVICE_NOT_FOUND'), String(e));
      await other.writeInfile(known.subarray(0, 1000));
      const got = await takeSamples(micSource({ device: other.pcmName, spawnImpl: spawnWithEnv(other.env) }), 1000);
      assert.equal(got.samples[1]! * 32768, known[1]);
      assert.deepEqual(await waitNoChild('arecord'), []);
    } finally {
      await other.cleanup();
    }
  });

  test('arecord not on PATH -> MIC_BINARY_NOT_FOUND, no crash (both paths)', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'earshot-nopath-'));
    try {
      const crashes: unknown[] = [];
      const onUncaught = (e: unknown) => crashes.push(e);
      process.on('uncaughtException', onUncaught);
      process.on('unhandledRejection', onUncaught);
      try {
        const viaLib = await withEnv({ PATH: empty }, () => errorOf(micSource({ device: alsa.pcmName })));
        assert.ok(isEarshotError(viaLib, 'MIC_BINARY_NOT_FOUND'), String(viaLib));
        assert.match(viaLib.message, /arecord/);
        const viaSpawn = await errorOf(micSource({ device: alsa.pcmName, spawnImpl: spawnWithEnv({ ...alsa.env, PATH: empty }) }));
        assert.ok(isEarshotError(viaSpawn, 'MIC_BINARY_NOT_FOUND'), String(viaSpawn));
        const sox = await withEnv({ PATH: empty }, () => errorOf(micSource({ device: alsa.pcmName, recorder: 'sox' })));
        assert.ok(isEarshotError(sox, 'MIC_BINARY_NOT_FOUND'), String(sox));
        await new Promise((r) => setImmediate(r));
      } finally {
        process.off('uncaughtException', onUncaught);
        process.off('unhandledRejection', onUncaught);
      }
      assert.deepEqual(crashes, []);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  test('recorder killed from outside -> MIC_FAILED with the signal', async () => {
    const e = await new Promise<unknown>((resolve) => {
      let killed = false;
      micSource({ device: alsa.pcmName, spawnImpl: spawnWithEnv(alsa.env) }).subscribe({
        next: () => {
          if (killed) return;
          killed = true;
          const rec = childProcesses().find((p) => p.comm === 'arecord');
          assert.ok(rec, 'arecord child not found');
          process.kill(rec.pid, 'SIGKILL');
        },
        error: resolve,
      });
    });
    assert.ok(isEarshotError(e, 'MIC_FAILED'), String(e));
    assert.match(e.message, /SIGKILL/);
    assert.deepEqual(await waitNoChild('arecord'), []);
  });

  test('sox recorder reads the same device (AUDIODEV) and converts to 16 kHz mono', async () => {
    // node-record-lpcm16's sox command sets rate/channels for its OUTPUT only, so sox
    // opens the device at its default 48 kHz stereo and converts. A real card honours
    // that; this file PCM just serves raw bytes, so the 16 kHz mono infile is read as
    // 48 kHz stereo frames (6 samples per 16 kHz output sample): a 440 Hz tone comes
    // back as exactly 6 x 440 = 2640 Hz. That checks the whole sox path deterministically.
    const tone = new Int16Array(32000);
    for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000));
    const soxAlsa = await createAlsaFixture({ samples: tone, pcmName: 'earshot_sox' });
    try {
      const got = await withEnv(soxAlsa.env, () => takeSamples(micSource({ device: soxAlsa.pcmName, recorder: 'sox' }), 9000));
      assert.equal(got.chunks[0]!.sampleRateHz, 16000);
      const seg = got.samples.subarray(1000, 9000);
      const f = dominantFrequency(seg, 16000, 300, 4000, 5);
      assert.ok(Math.abs(f - 2640) <= 5, `dominant ${f} Hz`);
      assert.deepEqual(await waitNoChild('sox'), []);
    } finally {
      await soxAlsa.cleanup();
    }
  });
});
