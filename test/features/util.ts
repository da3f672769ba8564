import { readFileSync } from 'node:fs';

import { type FrontendConfig, frontendSchema } from '../../src/config/sections/frontend.js';
import { rng } from '../helpers/rng.js';

export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function readF64(path: string): Float64Array {
  const b = readFileSync(path);
  return new Float64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function readI16(path: string): Int16Array {
  const b = readFileSync(path);
  return new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

export function frontend(overrides: Partial<FrontendConfig> = {}): FrontendConfig {
  return frontendSchema.parse(overrides);
}

export { maxAbsDiff } from '../helpers/numeric.js';

export { rng };

/** Chunk boundaries: a fixed size, or random sizes in [1, max] from a seed. */
export function chunkSizes(total: number, size: number | { seed: number; max: number }): number[] {
  const out: number[] = [];
  const next =
    typeof size === 'number'
      ? () => size
      : (
          (r) => () =>
            1 + Math.floor(r() * size.max)
        )(rng(size.seed));
  for (let done = 0; done < total;) {
    const n = Math.min(next(), total - done);
    out.push(n);
    done += n;
  }
  return out;
}

/** A test signal with tones, a chirp and noise, quantised like int16 PCM / 32768. */
export function testSignal(n: number, sampleRateHz: number, seed = 1): Float32Array {
  const r = rng(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRateHz;
    const v = 0.3 * Math.sin(2 * Math.PI * 440 * t) + 0.2 * Math.sin(2 * Math.PI * (200 + 1500 * t) * t) + 0.1 * (r() * 2 - 1);
    x[i] = Math.round(v * 32767) / 32768;
  }
  return x;
}

export function concat(parts: ArrayLike<number>[]): Float64Array {
  const out = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p as ArrayLike<number>, o);
    o += p.length;
  }
  return out;
}
