import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';

import { lastValueFrom, take, toArray, VirtualTimeScheduler } from 'rxjs';
import wavefile from 'wavefile';

import { type AudioChunk, chunkAudio, decodeAudioFile, fileSource } from '../../src/audio/index.js';
import { isEarshotError } from '../../src/errors.js';
import { collectAll, errorOf, knownInt16 } from './collect.js';
import { tempDir } from './tmp.js';

const { WaveFile } = wavefile;
const tmp = tempDir('filesrc');
after(() => tmp.cleanup());

function wav(name: string, ints: Int16Array, rate: number): string {
  const w = new WaveFile();
  w.fromScratch(1, rate, '16', ints);
  const p = tmp.path(name);
  writeFileSync(p, w.toBuffer());
  return p;
}

describe('fileSource', () => {
  test('emits 0.1 s chunks at the file rate, sample-accurate, reassembling to the decoded file', async () => {
    const ints = knownInt16(22050 + 1234, 9);
    const p = wav('a.wav', ints, 22050);
    const { samples, chunks } = await collectAll(fileSource(p));
    assert.equal(chunks.length, 11);
    chunks.forEach((c, k) => {
      assert.equal(c.sampleRateHz, 22050);
      assert.equal(c.startSample, k * 2205);
      assert.equal(c.samples.length, k < 10 ? 2205 : ints.length - 22050);
    });
    assert.deepEqual(samples, (await decodeAudioFile(p)).samples);
  });

  test('chunkSamples is honoured and the last chunk is short', async () => {
    const p = wav('b.wav', knownInt16(1000, 2), 16000);
    const { chunks } = await collectAll(fileSource(p, { chunkSamples: 300 }));
    assert.deepEqual(
      chunks.map((c) => [c.startSample, c.samples.length]),
      [
        [0, 300],
        [300, 300],
        [600, 300],
        [900, 100],
      ],
    );
  });

  test('loop: startSample keeps increasing and chunks wrap around the end of the file', async () => {
    const ints = knownInt16(1000, 4);
    const p = wav('c.wav', ints, 16000);
    const chunks = await lastValueFrom(fileSource(p, { chunkSamples: 400, loop: true }).pipe(take(6), toArray()));
    assert.deepEqual(
      chunks.map((c) => c.startSample),
      [0, 400, 800, 1200, 1600, 2000],
    );
    for (const c of chunks) {
      assert.equal(c.samples.length, 400);
      for (let i = 0; i < 400; i++) assert.equal(c.samples[i], ints[(c.startSample + i) % 1000]! / 32768);
    }
  });

  test('emitted buffers are owned by the subscriber: mutating one does not change the next loop', async () => {
    const p = wav('d.wav', knownInt16(100, 6), 16000);
    const chunks = await lastValueFrom(fileSource(p, { chunkSamples: 100, loop: true }).pipe(take(3), toArray()));
    chunks[0]!.samples.fill(0);
    assert.notDeepEqual(chunks[1]!.samples, chunks[0]!.samples);
    assert.deepEqual(chunks[1]!.samples, chunks[2]!.samples);
  });

  test('decode failures arrive on the error channel as EarshotError', async () => {
    const e = await errorOf(fileSource(tmp.path('missing.flac')));
    assert.ok(isEarshotError(e, 'AUDIO_FILE_NOT_FOUND'));
    assert.match(e.message, /missing\.flac/);
  });

  test('invalid chunkSamples -> INPUT_INVALID', async () => {
    const e = await errorOf(chunkAudio({ samples: new Float32Array(10), sampleRateHz: 16000, channels: 1 }, { chunkSamples: 2.5 }));
    assert.ok(isEarshotError(e, 'INPUT_INVALID'));
  });
});

describe('realtime pacing on a virtual scheduler', () => {
  function emissionTimes(audio: { samples: Float32Array; sampleRateHz: number }, chunkSamples: number, n: number, loop = false): { at: number; chunk: AudioChunk }[] {
    const scheduler = new VirtualTimeScheduler(undefined, Number.POSITIVE_INFINITY);
    const out: { at: number; chunk: AudioChunk }[] = [];
    const sub = chunkAudio({ ...audio, channels: 1 }, { chunkSamples, realtime: true, loop, scheduler })
      .pipe(take(n))
      .subscribe((chunk) => out.push({ at: scheduler.now(), chunk }));
    scheduler.flush();
    sub.unsubscribe();
    return out;
  }

  test('chunk k is emitted at k * chunk / rate seconds', () => {
    const out = emissionTimes({ samples: new Float32Array(16000), sampleRateHz: 16000 }, 1600, 10);
    assert.deepEqual(
      out.map((o) => o.at),
      [0, 100, 200, 300, 400, 500, 600, 700, 800, 900],
    );
  });

  test('no drift with a non-integer chunk period (1000 samples at 44.1 kHz = 22.675... ms, looped)', () => {
    const out = emissionTimes({ samples: new Float32Array(4410), sampleRateHz: 44100 }, 1000, 2000, true);
    assert.equal(out.length, 2000);
    // Due times come from the sample count, so chunk k lands on k*1000/44.1 ms within float rounding
    // (summing 22.675... ms delays would accumulate error instead).
    out.forEach(({ at, chunk }, k) => {
      assert.equal(chunk.startSample, k * 1000);
      assert.ok(Math.abs(at - (k * 1000 * 1000) / 44100) < 1e-9, `chunk ${k} at ${at}`);
    });
  });

  test('without realtime everything is emitted at virtual time 0', () => {
    const scheduler = new VirtualTimeScheduler();
    const times: number[] = [];
    chunkAudio({ samples: new Float32Array(5000), sampleRateHz: 16000, channels: 1 }, { chunkSamples: 1000, scheduler }).subscribe(() => times.push(scheduler.now()));
    scheduler.flush();
    assert.deepEqual(times, [0, 0, 0, 0, 0]);
  });
});
