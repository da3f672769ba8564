import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { decodeAudioFile } from '../../src/audio/index.js';
import { isEarshotError } from '../../src/errors.js';
import { dominantFrequency, toneFraction } from './collect.js';
import { ffmpeg, sox, tempDir } from './tmp.js';

const tmp = tempDir('codecs');
const src = tmp.path('src.wav');
const stereo = tmp.path('stereo.wav');
// No ffmpeg for these: proves audio-decode handles every one of them in-process on Node.
const noFfmpeg = { ffmpegPath: '/nonexistent/ffmpeg' };

before(() => {
  sox('-n', '-r', '16000', '-b', '16', src, 'synth', '1', 'sine', '440', 'vol', '0.5');
  sox('-n', '-r', '16000', '-b', '16', '-c', '2', stereo, 'synth', '1', 'sine', '440', 'sine', '1000', 'vol', '0.5');
});
after(() => tmp.cleanup());

describe('compressed formats decode to the source signal', () => {
  // [name, make fixture, expected rate]. Opus decodes at 48 kHz (its only output rate);
  // raw ADTS AAC comes back at 32 kHz because the decoder applies implicit SBR.
  const cases: { file: string; make: (out: string) => void; rateHz: number; durTolS: number }[] = [
    { file: 'a.flac', make: (o) => sox(src, o), rateHz: 16000, durTolS: 0 },
    { file: 'a.mp3', make: (o) => sox(src, o), rateHz: 16000, durTolS: 0.1 }, // encoder delay + frame padding
    { file: 'a.ogg', make: (o) => sox(src, o), rateHz: 16000, durTolS: 0.01 },
    { file: 'a.opus', make: (o) => ffmpeg('-i', src, '-c:a', 'libopus', o), rateHz: 48000, durTolS: 0.03 },
    { file: 'a.m4a', make: (o) => ffmpeg('-i', src, '-c:a', 'aac', o), rateHz: 16000, durTolS: 0.03 },
    { file: 'a.aac', make: (o) => ffmpeg('-i', src, '-c:a', 'aac', '-f', 'adts', o), rateHz: 32000, durTolS: 0.1 },
  ];
  for (const c of cases) {
    test(`${c.file}: rate, ~1 s duration, 440 Hz dominant`, async () => {
      const p = tmp.path(c.file);
      c.make(p);
      const d = await decodeAudioFile(p, noFfmpeg);
      assert.equal(d.sampleRateHz, c.rateHz);
      assert.equal(d.channels, 1);
      const seconds = d.samples.length / d.sampleRateHz;
      assert.ok(Math.abs(seconds - 1) <= c.durTolS + 1 / d.sampleRateHz, `duration ${seconds}s`);
      const mid = d.samples.subarray(Math.round(0.25 * c.rateHz), Math.round(0.75 * c.rateHz));
      assert.ok(toneFraction(mid, c.rateHz, 440) > 0.95, `440 Hz power fraction ${toneFraction(mid, c.rateHz, 440)}`);
      assert.equal(dominantFrequency(mid, c.rateHz, 380, 500), 440);
    });
  }

  test('FLAC is lossless: equal, sample for sample, to the WAV it came from (stereo averaged)', async () => {
    const flac = tmp.path('stereo.flac');
    sox(stereo, flac);
    const fromWav = await decodeAudioFile(stereo);
    const fromFlac = await decodeAudioFile(flac, noFfmpeg);
    assert.equal(fromFlac.channels, 2);
    assert.equal(fromFlac.samples.length, fromWav.samples.length);
    assert.deepEqual(fromFlac.samples, fromWav.samples);
    // Both tones survive the mean at half power each.
    const mid = fromFlac.samples.subarray(4000, 12000);
    assert.ok(toneFraction(mid, 16000, 440) > 0.45 && toneFraction(mid, 16000, 1000) > 0.45);
  });

  test('FLAC 16-bit scale is x/32768 and 24-bit x/2^23 (same as the WAV decode)', async () => {
    for (const bits of ['16', '24']) {
      const wav = tmp.path(`b${bits}.wav`);
      const flac = tmp.path(`b${bits}.flac`);
      sox('-D', '-n', '-r', '16000', '-b', bits, wav, 'synth', '0.5', 'sine', '440', 'vol', '0.99');
      sox(wav, flac);
      const a = await decodeAudioFile(wav);
      const b = await decodeAudioFile(flac, noFfmpeg);
      let maxErr = 0;
      for (let i = 0; i < a.samples.length; i++) maxErr = Math.max(maxErr, Math.abs(a.samples[i]! - b.samples[i]!));
      if (bits === '16') assert.equal(maxErr, 0);
      else assert.ok(maxErr <= 2 ** -23, `24-bit max error ${maxErr}`);
    }
  });

  test('a format audio-decode lacks (Sun .au mu-law) decodes through the ffmpeg fallback', async () => {
    const p = tmp.path('a.au');
    sox(src, '-e', 'mu-law', p);
    const d = await decodeAudioFile(p);
    assert.equal(d.sampleRateHz, 16000);
    assert.equal(d.samples.length, 16000);
    assert.equal(dominantFrequency(d.samples, 16000, 380, 500), 440);
    await assert.rejects(decodeAudioFile(p, noFfmpeg), (e: unknown) => isEarshotError(e, 'AUDIO_CODEC_UNSUPPORTED') && /ffmpeg not found/.test(e.message));
  });
});

describe('FLAC with a leading ID3v2 tag', () => {
  test('still scaled x/32768 (STREAMINFO found after the tag)', async () => {
    const flac = tmp.path('plain.flac');
    sox(src, flac);
    const tag = Buffer.alloc(10 + 20);
    tag.write('ID3', 0);
    tag[3] = 4;
    tag[9] = 20; // syncsafe size 20
    const tagged = tmp.path('tagged.flac');
    writeFileSync(tagged, Buffer.concat([tag, readFileSync(flac)]));
    const want = await decodeAudioFile(src);
    const got = await decodeAudioFile(tagged, noFfmpeg);
    assert.deepEqual(got.samples, want.samples);
  });
});
