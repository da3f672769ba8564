import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { decodeAudioFile } from '../../src/audio/decode.js';
import { ffmpegAudioStream } from '../../src/audio/ffmpeg-stream.js';
import { openAudioStream } from '../../src/audio/stream.js';
import { isEarshotError } from '../../src/errors.js';

/** Streamed decoding through an ffmpeg child: same samples as the whole-file decoders, bounded reads, clean stops. */
const dir = mkdtempSync(join(tmpdir(), 'earshot-ffstream-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sox(...args: string[]): void {
  const r = spawnSync('sox', args, { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

async function all(blocks: AsyncIterable<Float32Array>): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  for await (const b of blocks) parts.push(b.slice());
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('a stereo 44.1 kHz 16-bit FLAC streamed through ffmpeg equals the in-process decode, sample for sample', async () => {
  const flac = join(dir, 'chirp.flac');
  sox('-n', '-r', '44100', '-c', '2', '-b', '16', flac, 'synth', '7', 'sine', '200-3000', 'sine', '440', 'vol', '0.5');
  const whole = await decodeAudioFile(flac);
  const streamed = await openAudioStream(flac, { streamAboveBytes: 0 });
  assert.equal(streamed.sampleRateHz, 44100);
  assert.equal(streamed.channels, 2);
  const got = await all(streamed.blocks());
  assert.equal(got.length, whole.samples.length);
  assert.deepEqual(got, whole.samples);
  // Below the threshold the in-process decoder runs: same samples again.
  assert.deepEqual(await all((await openAudioStream(flac)).blocks()), whole.samples);
});

test('stopping early and close() kill the decoder; a corrupt file and a missing ffmpeg are typed errors', async () => {
  const long = join(dir, 'long.flac');
  sox('-n', '-r', '16000', '-c', '1', long, 'synth', '300', 'whitenoise', 'vol', '0.1');
  assert.ok(statSync(long).size > 1 << 20);
  const pids: number[] = [];
  const spawnImpl = ((cmd: string, args: readonly string[], o: object) => {
    const c = spawn(cmd, args, o);
    pids.push(c.pid!);
    return c;
  }) as never;
  const s = await ffmpegAudioStream({ file: long }, { spawnImpl });
  let n = 0;
  for await (const b of s.blocks()) {
    n += b.length;
    if (n > 16000 * 5) break;
  }
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(alive(pids[0]!), false, 'ffmpeg is gone after the consumer stopped');
  const unread = await ffmpegAudioStream({ file: long }, { spawnImpl });
  unread.close();
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(alive(pids[1]!), false, 'close() on an unread stream kills ffmpeg');

  const junk = join(dir, 'junk.ogg');
  writeFileSync(junk, Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 7919) & 255)));
  await assert.rejects(ffmpegAudioStream({ file: junk }), (e) => isEarshotError(e) && /^AUDIO_(CODEC_UNSUPPORTED|DECODE_FAILED)$/.test(e.code) && e.message.includes('junk.ogg'));
  await assert.rejects(ffmpegAudioStream({ file: long }, { ffmpegPath: join(dir, 'no-ffmpeg') }), (e) => isEarshotError(e, 'AUDIO_CODEC_UNSUPPORTED') && /ffmpeg not found/.test(e.message));
  // openAudioStream falls back to the whole-file decoders when ffmpeg cannot run.
  const fallback = await openAudioStream(long, { streamAboveBytes: 0, ffmpegPath: join(dir, 'no-ffmpeg') });
  assert.equal((await all(fallback.blocks())).length, 300 * 16000);
});
