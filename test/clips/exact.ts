import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

import wavefile from 'wavefile';

import { rng } from '../helpers/rng.js';

const { WaveFile } = wavefile;

/**
 * 16-bit mono test audio: quiet noise (so every sample differs and a shifted clip
 * cannot match) with a loud 1 kHz tone inserted at [toneStart, toneStart + toneSeconds).
 */
export function insertedTone(rate: number, totalSeconds: number, toneStart: number, toneSeconds: number, seed = 1): Int16Array {
  const r = rng(seed);
  const out = new Int16Array(Math.round(totalSeconds * rate));
  const a = Math.round(toneStart * rate);
  const b = a + Math.round(toneSeconds * rate);
  for (let i = 0; i < out.length; i++) {
    const noise = Math.round((r() - 0.5) * 40);
    out[i] = i >= a && i < b ? Math.round(16000 * Math.sin((2 * Math.PI * 1000 * i) / rate)) + noise : noise;
  }
  return out;
}

export function writeWav16(path: string, rate: number, samples: Int16Array): void {
  const w = new WaveFile();
  w.fromScratch(1, rate, '16', samples);
  writeFileSync(path, w.toBuffer());
}

/** A clip file's samples as 16-bit PCM at its own rate (decoded by ffmpeg). */
export function decodeClip(path: string): Int16Array {
  const buf = execFileSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', path, '-f', 's16le', '-ac', '1', '-'], { maxBuffer: 1 << 28 });
  return new Int16Array(buf.buffer, buf.byteOffset, buf.length / 2);
}

/** Sample rate of a clip file, from ffprobe. */
export function clipRate(path: string): number {
  return Number(execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=sample_rate', '-of', 'csv=p=0', path]).toString().trim());
}
