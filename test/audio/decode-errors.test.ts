import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import wavefile from 'wavefile';

import { decodeAudioFile } from '../../src/audio/index.js';
import { type ErrorCode, isEarshotError } from '../../src/errors.js';
import { knownInt16 } from './collect.js';
import { sox, tempDir } from './tmp.js';

const { WaveFile } = wavefile;
const tmp = tempDir('decode-err');
const crashes: unknown[] = [];
const onCrash = (e: unknown) => crashes.push(e);
const ints = knownInt16(1000, 5);
let good: Buffer;

before(() => {
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);
  const w = new WaveFile();
  w.fromScratch(1, 16000, '16', ints);
  good = Buffer.from(w.toBuffer());
});
after(() => {
  process.off('uncaughtException', onCrash);
  process.off('unhandledRejection', onCrash);
  tmp.cleanup();
  assert.deepEqual(crashes, [], 'decoding must never crash the process');
});

function file(name: string, bytes: Uint8Array | string): string {
  const p = tmp.path(name);
  writeFileSync(p, bytes);
  return p;
}

/** A canonical 44-byte header + data copy of `good` with one header field overwritten. */
function patched(name: string, edit: (v: DataView, b: Buffer) => void): string {
  const b = Buffer.from(good);
  edit(new DataView(b.buffer, b.byteOffset, b.length), b);
  return file(name, b);
}

async function expectCode(p: string, code: ErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(decodeAudioFile(p), (e: unknown) => {
    assert.ok(isEarshotError(e, code), `expected ${code}, got ${String(e)}`);
    assert.ok(e.message.includes(p), `message must name the file: ${e.message}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('decodeAudioFile typed errors', () => {
  test('missing path and a directory -> AUDIO_FILE_NOT_FOUND', async () => {
    await expectCode(tmp.path('nope.wav'), 'AUDIO_FILE_NOT_FOUND');
    const dir = tmp.path('a-dir.wav');
    mkdirSync(dir);
    await expectCode(dir, 'AUDIO_FILE_NOT_FOUND', /not a regular file/);
  });

  test('0-byte file and a WAV with an empty data chunk -> AUDIO_FILE_EMPTY', async () => {
    await expectCode(file('zero.mp3', ''), 'AUDIO_FILE_EMPTY', /0 bytes/);
    await expectCode(file('nodata.wav', good.subarray(0, 44)), 'AUDIO_FILE_EMPTY');
  });

  test('truncated or corrupt WAV headers -> AUDIO_HEADER_INVALID', async () => {
    await expectCode(file('cut-in-fmt.wav', good.subarray(0, 30)), 'AUDIO_HEADER_INVALID', /fmt chunk runs past end/);
    await expectCode(file('riff-only.wav', good.subarray(0, 12)), 'AUDIO_HEADER_INVALID', /no fmt chunk/);
    await expectCode(file('no-data.wav', good.subarray(0, 36)), 'AUDIO_HEADER_INVALID', /no data chunk/);
    await expectCode(
      patched('fmt-small.wav', (v) => v.setUint32(16, 8, true)),
      'AUDIO_HEADER_INVALID',
      /fmt chunk is 8 bytes/,
    );
    await expectCode(
      patched('align.wav', (v) => v.setUint16(32, 3, true)),
      'AUDIO_HEADER_INVALID',
      /blockAlign 3/,
    );
    await expectCode(
      patched('zero-ch.wav', (v) => v.setUint16(22, 0, true)),
      'AUDIO_HEADER_INVALID',
      /0 channels/,
    );
    await expectCode(
      patched('zero-rate.wav', (v) => v.setUint32(24, 0, true)),
      'AUDIO_HEADER_INVALID',
      /sample rate 0 Hz is outside/,
    );
    // Issue #19: a header saying 1 Hz (byte rate 2) made `tag` resample each second 16,000-fold (7.4 GB).
    await expectCode(
      patched('rate-1hz.wav', (v) => {
        v.setUint32(24, 1, true);
        v.setUint32(28, 2, true);
      }),
      'AUDIO_HEADER_INVALID',
      /sample rate 1 Hz is outside 1000\.\.768000 Hz/,
    );
    await expectCode(
      patched('rate-999hz.wav', (v) => v.setUint32(24, 999, true)),
      'AUDIO_HEADER_INVALID',
      /sample rate 999 Hz/,
    );
    await expectCode(
      patched('rate-10mhz.wav', (v) => v.setUint32(24, 10_000_000, true)),
      'AUDIO_HEADER_INVALID',
      /sample rate 10000000 Hz/,
    );
  });

  test('data chunk shorter than declared (truncated recording) decodes the whole samples present', async () => {
    // Cut mid-sample: 44 + 2*700 + 1 bytes -> 700 samples; the odd byte is not a sample.
    const d = await decodeAudioFile(file('cut.wav', good.subarray(0, 44 + 1401)));
    assert.equal(d.samples.length, 700);
    for (let i = 0; i < 700; i++) assert.equal(d.samples[i], ints[i]! / 32768);
    // Declared size 0xFFFFFFFF (WAV streamed to a pipe) is the same case.
    const piped = await decodeAudioFile(patched('piped.wav', (v) => v.setUint32(40, 0xffffffff, true)));
    assert.equal(piped.samples.length, ints.length);
  });

  test('random bytes with an unknown extension -> AUDIO_CODEC_UNSUPPORTED', async () => {
    const noise = Buffer.from(knownInt16(3000, 11).buffer);
    await expectCode(file('noise.xyz', noise), 'AUDIO_CODEC_UNSUPPORTED');
    await expectCode(file('text.mp3', 'this is not audio\n'.repeat(50)), 'AUDIO_CODEC_UNSUPPORTED');
  });

  test('WAV with an unknown format tag -> AUDIO_CODEC_UNSUPPORTED naming the tag', async () => {
    await expectCode(
      patched('tag.wav', (v) => v.setUint16(20, 0x1234, true)),
      'AUDIO_CODEC_UNSUPPORTED',
      /0x1234/,
    );
    await expectCode(
      patched('bits.wav', (v) => v.setUint16(34, 12, true)),
      'AUDIO_CODEC_UNSUPPORTED',
      /12-bit/,
    );
  });

  test('a recognised container that does not decode -> AUDIO_DECODE_FAILED', async () => {
    const flac = tmp.path('ok.flac');
    sox('-n', '-r', '16000', flac, 'synth', '1', 'sine', '440');
    const bytes = readFileSync(flac);
    // STREAMINFO intact, first audio frame cut short.
    await expectCode(file('cut.flac', bytes.subarray(0, 300)), 'AUDIO_DECODE_FAILED', /decoding failed/);
    await expectCode(file('fLaC-junk.flac', Buffer.concat([Buffer.from('fLaC'), Buffer.from(knownInt16(1500, 3).buffer)])), 'AUDIO_DECODE_FAILED');
  });
});
