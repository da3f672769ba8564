import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, describe, test } from 'node:test';

import wavefile from 'wavefile';

import { decodeAudioFile, parseWav } from '../../src/audio/index.js';
import { dominantFrequency, knownInt16 } from './collect.js';
import { sox, tempDir } from './tmp.js';

const { WaveFile } = wavefile;
const tmp = tempDir('wav');
after(() => tmp.cleanup());

function writeWav(name: string, channels: number, rate: number, bitDepth: string, samples: number[][] | Float64Array | Int16Array): string {
  const w = new WaveFile();
  w.fromScratch(channels, rate, bitDepth, samples as unknown as number[]);
  const p = tmp.path(name);
  writeFileSync(p, w.toBuffer());
  return p;
}

describe('WAV decoding with exact known values', () => {
  test('int16: every decoded float is exactly value/32768 (VGGish parity, not /32767)', async () => {
    const ints = knownInt16(10_000, 3);
    const d = await decodeAudioFile(writeWav('i16.wav', 1, 16000, '16', ints));
    assert.equal(d.sampleRateHz, 16000);
    assert.equal(d.channels, 1);
    assert.equal(d.samples.length, ints.length);
    for (let i = 0; i < ints.length; i++) assert.equal(d.samples[i], ints[i]! / 32768, `sample ${i}`);
    assert.equal(d.samples[0], -1);
    assert.equal(d.samples[1], 32767 / 32768);
  });

  test('8-bit unsigned -> (x-128)/128, 24-bit -> x/2^23, 32-bit int -> x/2^31', async () => {
    const u8 = [0, 1, 127, 128, 129, 255];
    const d8 = await decodeAudioFile(writeWav('u8.wav', 1, 8000, '8', u8 as unknown as number[][]));
    assert.deepEqual(
      Array.from(d8.samples),
      u8.map((x) => (x - 128) / 128),
    );
    const i24 = [-8388608, -1, 0, 1, 4194304, 8388607];
    const d24 = await decodeAudioFile(writeWav('i24.wav', 1, 22050, '24', i24 as unknown as number[][]));
    assert.equal(d24.sampleRateHz, 22050);
    assert.deepEqual(
      Array.from(d24.samples),
      i24.map((x) => x / 2 ** 23),
    );
    const i32 = [-2147483648, -65536, 0, 65536, 1073741824, 2147483647];
    const d32 = await decodeAudioFile(writeWav('i32.wav', 1, 48000, '32', i32 as unknown as number[][]));
    assert.deepEqual(
      Array.from(d32.samples),
      i32.map((x) => Math.fround(x / 2 ** 31)),
    );
  });

  test('float32 and float64 WAVs are taken as they are', async () => {
    const vals = [-1, -0.5, 0, 0.123456789, 0.999, 1.5];
    const f32 = await decodeAudioFile(writeWav('f32.wav', 1, 16000, '32f', vals as unknown as number[][]));
    assert.deepEqual(Array.from(f32.samples), vals.map(Math.fround));
    const f64 = await decodeAudioFile(writeWav('f64.wav', 1, 16000, '64', vals as unknown as number[][]));
    assert.deepEqual(Array.from(f64.samples), vals.map(Math.fround));
  });

  test('stereo is averaged to mono after scaling (mean of L/32768 and R/32768)', async () => {
    const L = [1000, -32768, 32767, 3, 0];
    const R = [-3000, -32768, -32768, 4, 1];
    const d = await decodeAudioFile(writeWav('st.wav', 2, 44100, '16', [L, R]));
    assert.equal(d.channels, 2);
    assert.equal(d.sampleRateHz, 44100);
    assert.deepEqual(
      Array.from(d.samples),
      L.map((l, i) => Math.fround((l / 32768 + R[i]! / 32768) / 2)),
    );
  });
});

describe('WAV decoding of sox-made files', () => {
  // sox writes WAVE_FORMAT_EXTENSIBLE for 24/32-bit and for >2 channels.
  const cases: { name: string; args: string[]; tag: number; tol: number }[] = [
    { name: 'u8', args: ['-b', '8'], tag: 1, tol: 1 / 128 },
    { name: 's16', args: ['-b', '16'], tag: 1, tol: 1 / 32768 },
    { name: 's24', args: ['-b', '24'], tag: 0xfffe, tol: 2 ** -23 },
    { name: 's32', args: ['-b', '32'], tag: 0xfffe, tol: 6e-8 }, // float32 output rounding dominates
    { name: 'f32', args: ['-e', 'floating-point', '-b', '32'], tag: 3, tol: 6e-8 },
    { name: 'f64', args: ['-e', 'floating-point', '-b', '64'], tag: 3, tol: 6e-8 },
  ];
  /** The same synth written by sox as raw float64: the reference, read without wavefile. */
  function refSine(name: string): Float64Array {
    const p = tmp.path(name);
    sox('-n', '-r', '16000', '-t', 'f64', p, 'synth', '0.5', 'sine', '440', 'vol', '0.5');
    const b = readFileSync(p);
    return new Float64Array(b.buffer, b.byteOffset, b.length / 8);
  }
  for (const c of cases) {
    test(`${c.name}: a 0.5 s 440 Hz sine at half scale decodes to that sine`, async () => {
      const p = tmp.path(`${c.name}.wav`);
      // -D: no dither, so each sample is sox's own float value rounded to the format.
      sox('-D', '-n', '-r', '16000', ...c.args, p, 'synth', '0.5', 'sine', '440', 'vol', '0.5');
      assert.equal(new DataView(readFileSync(p).buffer).getUint16(20, true), c.tag, 'fixture format tag');
      const ref = refSine(`${c.name}.f64`);
      const d = await decodeAudioFile(p);
      assert.equal(d.sampleRateHz, 16000);
      assert.equal(d.samples.length, ref.length);
      let maxErr = 0;
      for (let i = 0; i < d.samples.length; i++) maxErr = Math.max(maxErr, Math.abs(d.samples[i]! - ref[i]!));
      assert.ok(maxErr <= c.tol, `max error ${maxErr} > ${c.tol}`);
      assert.equal(dominantFrequency(d.samples, 16000, 400, 480), 440);
    });
  }

  test('3-channel extensible 24-bit: channels averaged', async () => {
    const p = tmp.path('c3.wav');
    // Channel 1 and 2 the same sine, channel 3 its negation -> mean is sine/3.
    sox('-n', '-r', '16000', '-b', '24', '-c', '3', p, 'synth', '0.25', 'sine', '440', 'sine', '440', 'sine', '440', 'remix', '1', '2', '3i', 'vol', '0.5');
    const layout = parseWav(new Uint8Array(readFileSync(p)), p);
    assert.equal(layout.formatTag, 1, 'extensible with PCM subformat');
    assert.equal(layout.channels, 3);
    const d = await decodeAudioFile(p);
    assert.equal(d.channels, 3);
    const v = new DataView(layout.data.buffer, layout.data.byteOffset, layout.data.byteLength);
    const i24 = (at: number) => (v.getUint8(at) | (v.getUint8(at + 1) << 8) | (v.getInt8(at + 2) << 16)) / 2 ** 23;
    for (let f = 0; f < d.samples.length; f += 97) {
      const mean = (i24(f * 9) + i24(f * 9 + 3) + i24(f * 9 + 6)) / 3;
      assert.equal(d.samples[f], Math.fround(mean), `frame ${f}`);
    }
  });

  test('A-law WAV (not PCM) decodes through the ffmpeg fallback', async () => {
    const p = tmp.path('alaw.wav');
    sox('-n', '-r', '8000', '-e', 'a-law', p, 'synth', '0.5', 'sine', '440', 'vol', '0.5');
    const d = await decodeAudioFile(p);
    assert.equal(d.sampleRateHz, 8000);
    assert.equal(d.samples.length, 4000);
    assert.equal(dominantFrequency(d.samples, 8000, 400, 480), 440);
  });
});
