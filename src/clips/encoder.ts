import { spawn } from 'node:child_process';
import { rename, rm, stat } from 'node:fs/promises';

import { EarshotError } from '../errors.js';

export type ClipCodec = 'flac' | 'opus';

export const CLIP_EXT: Readonly<Record<ClipCodec, string>> = { flac: 'flac', opus: 'opus' };

/** Output args per codec. Opus only takes 8/12/16/24/48 kHz, so it is resampled to 48 kHz. */
const CODEC_ARGS: Readonly<Record<ClipCodec, readonly string[]>> = {
  flac: ['-c:a', 'flac', '-sample_fmt', 's16', '-f', 'flac'],
  opus: ['-ar', '48000', '-c:a', 'libopus', '-b:a', '48k', '-f', 'ogg'],
};

/**
 * Float samples in [-1, 1) to 16-bit PCM the way int16 input was scaled to float
 * (x / 32768), so audio that came from 16-bit PCM round-trips sample-exactly.
 */
export function toInt16Bytes(samples: Float32Array): Buffer {
  const out = Buffer.allocUnsafe(samples.length * 2);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i]! * 32768);
    out.writeInt16LE(v > 32767 ? 32767 : v < -32768 ? -32768 : v, i * 2);
  }
  return out;
}

export interface ClipEncoder {
  /** Queues samples for the encoder; never waits (memory is bounded by clips.maxSeconds). */
  write(samples: Float32Array): void;
  /** Closes the input; resolves with the final file's size once it is renamed into place. */
  finish(): Promise<number>;
  /** Kills the encoder and removes the partial file. */
  abort(): Promise<void>;
}

/**
 * One clip through an ffmpeg child process: PCM on stdin, the file written as
 * `<out>.part` and renamed to `<out>` only after ffmpeg exits cleanly, so a file
 * without `.part` is always complete (a crash leaves only `.part` files behind).
 */
export function startEncoder(ffmpeg: string, codec: ClipCodec, rateHz: number, out: string): ClipEncoder {
  const part = `${out}.part`;
  const child = spawn(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 's16le', '-ar', String(rateHz), '-ac', '1', '-i', 'pipe:0', ...CODEC_ARGS[codec], '-y', part], {
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  // EPIPE when ffmpeg died early (e.g. disk full): the exit code reports it.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => {
    child.on('error', (e) => {
      stderr += e.message;
      resolve(null);
    });
    child.on('close', (code) => resolve(code));
  });
  return {
    write(samples) {
      if (!child.stdin.destroyed) child.stdin.write(toInt16Bytes(samples));
    },
    async finish() {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) {
        await rm(part, { force: true });
        throw new EarshotError('CLIP_FAILED', `ffmpeg ${codec} encoder for ${out} exited with ${code ?? 'a spawn error'}: ${stderr.trim().split('\n').slice(-2).join(' ')}`, { path: out });
      }
      await rename(part, out);
      return (await stat(out)).size;
    },
    async abort() {
      child.kill('SIGKILL');
      await exited;
      await rm(part, { force: true });
    },
  };
}
