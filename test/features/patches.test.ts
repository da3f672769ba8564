import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { firstValueFrom, from, lastValueFrom, Subject, toArray } from 'rxjs';

import type { AudioChunk } from '../../src/audio/contracts.js';
import { fileSource } from '../../src/audio/index.js';
import { isEarshotError } from '../../src/errors.js';
import { computeLogMelPatches, logMelPatches, type Patch } from '../../src/features/index.js';
import { sharedPath } from '../helpers/shared.js';
import { chunkSizes, frontend, maxAbsDiff, readF32, testSignal } from './util.js';

function chunks(x: Float32Array, sampleRateHz: number, sizes: number[], startSample = 0): AudioChunk[] {
  const out: AudioChunk[] = [];
  let at = 0;
  for (const n of sizes) {
    out.push({ samples: x.slice(at, at + n), sampleRateHz, startSample: startSample + at });
    at += n;
  }
  return out;
}

async function stream(cs: AudioChunk[], cfg = frontend()): Promise<Patch[]> {
  return lastValueFrom(from(cs).pipe(logMelPatches(cfg), toArray()));
}

describe('logMelPatches streaming equals computeLogMelPatches for any chunking', () => {
  const chunkings: (number | { seed: number; max: number })[] = [1, 1000, { seed: 11, max: 4000 }, { seed: 5, max: 9 }];
  for (const srIn of [16000, 44100, 22050, 8000]) {
    for (const hop of srIn === 22050 ? [0.96, 0.48, 1.5] : [0.96, 0.48]) {
      const cfg = frontend({ patchHopSeconds: hop });
      const x = testSignal(Math.round(srIn * (hop > 1 ? 3.1 : 2.2)) + 7, srIn, srIn + 1);
      const batch = computeLogMelPatches(x, srIn, cfg);
      for (const c of chunkings) {
        test(`${srIn} Hz, hop ${hop} s, chunks ${JSON.stringify(c)}`, async () => {
          const patches = await stream(chunks(x, srIn, chunkSizes(x.length, c)), cfg);
          assert.equal(patches.length, batch.count);
          assert.ok(batch.count >= (hop === 0.48 ? 3 : 2));
          const hopFrames = Math.round(hop * 100);
          for (const [i, p] of patches.entries()) {
            assert.equal(p.index, i);
            assert.equal(p.frames, 96);
            assert.equal(p.bands, 64);
            assert.equal(p.startSeconds, (i * hopFrames * 160) / 16000);
            // Bit-identical to the batch patch.
            assert.deepEqual(p.data, batch.data.subarray(i * 96 * 64, (i + 1) * 96 * 64));
          }
        });
      }
    }
  }
});

describe('logMelPatches stream behaviour', () => {
  test('a real file source (44.1 kHz stereo golden WAV) streams to the golden examples', async () => {
    const dir = sharedPath('golden', 'vggish-frontend');
    const golden = readF32(join(dir, 'tone44k_stereo.logmel.f32'));
    const patches = await lastValueFrom(fileSource(join(dir, 'tone44k_stereo.wav'), { chunkSamples: 777 }).pipe(logMelPatches(frontend()), toArray()));
    assert.equal(patches.length * 96 * 64, golden.length);
    const all = new Float32Array(golden.length);
    patches.forEach((p, i) => all.set(p.data, i * 96 * 64));
    assert.ok(maxAbsDiff(all, golden) <= 1e-4);
  });

  test('startSeconds is in source time, offset by the first chunk start', async () => {
    const x = testSignal(44100 * 2, 44100);
    const patches = await stream(chunks(x, 44100, chunkSizes(x.length, 4410), 441000), frontend());
    assert.equal(patches.length, 2);
    assert.equal(patches[0]!.startSeconds, 10);
    assert.ok(Math.abs(patches[1]!.startSeconds - 10.96) < 1e-12);
  });

  test('patches are emitted as soon as their frames exist, before the stream ends', async () => {
    const src = new Subject<AudioChunk>();
    const first = firstValueFrom(src.pipe(logMelPatches(frontend())));
    const x = testSignal(16000, 16000);
    // 96 frames need 400 + 95 * 160 = 15,600 samples.
    src.next({ samples: x.slice(0, 15599), sampleRateHz: 16000, startSample: 0 });
    let got: Patch | undefined;
    void first.then((p) => (got = p));
    await new Promise((r) => setImmediate(r));
    assert.equal(got, undefined);
    src.next({ samples: x.slice(15599, 15600), sampleRateHz: 16000, startSample: 15599 });
    const p = await first;
    assert.equal(p.index, 0);
  });

  test('a stream shorter than one patch completes with no patches', async () => {
    const x = testSignal(14400, 16000);
    assert.deepEqual(await stream(chunks(x, 16000, [14400])), []);
    assert.deepEqual(await stream([]), []);
  });

  test('a sample-rate change mid-stream is an INPUT_INVALID error', async () => {
    const x = testSignal(2000, 16000);
    const cs: AudioChunk[] = [
      { samples: x.slice(0, 1000), sampleRateHz: 16000, startSample: 0 },
      { samples: x.slice(1000), sampleRateHz: 44100, startSample: 1000 },
    ];
    await assert.rejects(stream(cs), (e) => isEarshotError(e, 'INPUT_INVALID') && /44100/.test(e.message));
  });

  test('a gap in startSample is an INPUT_INVALID error naming both positions', async () => {
    const x = testSignal(2000, 16000);
    const cs: AudioChunk[] = [
      { samples: x.slice(0, 1000), sampleRateHz: 16000, startSample: 0 },
      { samples: x.slice(1000), sampleRateHz: 16000, startSample: 1500 },
    ];
    await assert.rejects(stream(cs), (e) => isEarshotError(e, 'INPUT_INVALID') && /1500/.test(e.message) && /1000/.test(e.message));
  });

  test('source errors pass through as EarshotError', async () => {
    const src = new Subject<AudioChunk>();
    const done = lastValueFrom(src.pipe(logMelPatches(frontend())));
    src.error(new Error('mic unplugged'));
    await assert.rejects(done, (e) => isEarshotError(e, 'STREAM_FAILED') && /mic unplugged/.test(e.message));
  });

  test('unsubscribing stops consuming the source', () => {
    const src = new Subject<AudioChunk>();
    const sub = src.pipe(logMelPatches(frontend())).subscribe();
    assert.equal(src.observed, true);
    sub.unsubscribe();
    assert.equal(src.observed, false);
  });
});
