import type { Observable } from 'rxjs';

import type { AudioChunk } from '../../src/audio/index.js';

export interface Collected {
  samples: Float32Array;
  chunks: AudioChunk[];
}

function concat(chunks: readonly AudioChunk[]): Float32Array {
  const out = new Float32Array(chunks.reduce((n, c) => n + c.samples.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c.samples, at);
    at += c.samples.length;
  }
  return out;
}

/** Subscribes until at least `n` samples arrived, then unsubscribes (the source must stop quietly). */
export function takeSamples(source: Observable<AudioChunk>, n: number): Promise<Collected> {
  return new Promise((resolve, reject) => {
    const chunks: AudioChunk[] = [];
    let have = 0;
    let done = false;
    const sub = source.subscribe({
      next: (c) => {
        if (done) return;
        chunks.push(c);
        have += c.samples.length;
        if (have >= n) {
          done = true;
          queueMicrotask(() => sub.unsubscribe());
          resolve({ samples: concat(chunks), chunks });
        }
      },
      error: (e: unknown) => reject(e),
      complete: () => resolve({ samples: concat(chunks), chunks }),
    });
  });
}

/** Collects everything until completion; rejects with the source's error. */
export function collectAll(source: Observable<AudioChunk>): Promise<Collected> {
  return takeSamples(source, Number.POSITIVE_INFINITY);
}

/** Resolves with the error the source fails with; rejects if it completes instead. */
export function errorOf(source: Observable<AudioChunk>): Promise<unknown> {
  return new Promise((resolve, reject) => {
    source.subscribe({ error: resolve, complete: () => reject(new Error('source completed, expected an error')) });
  });
}

/** Deterministic pseudo-random int16 test signal covering both extremes. */
export function knownInt16(n: number, seed = 1): Int16Array {
  const out = new Int16Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s >>> 16) - 32768;
  }
  out[0] = -32768;
  if (n > 1) out[1] = 32767;
  if (n > 2) out[2] = 0;
  return out;
}

/** Power fraction of `x` at `freqHz` (Goertzel), used to check a decoded sine is the source sine. */
export function toneFraction(x: Float32Array, sampleRateHz: number, freqHz: number): number {
  const n = x.length;
  const w = (2 * Math.PI * freqHz) / sampleRateHz;
  let re = 0;
  let im = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    re += x[i]! * Math.cos(w * i);
    im += x[i]! * Math.sin(w * i);
    energy += x[i]! * x[i]!;
  }
  return energy === 0 ? 0 : (2 * (re * re + im * im)) / n / energy;
}

/** Frequency (grid of stepHz within [lo, hi]) with the most power: the dominant tone. */
export function dominantFrequency(x: Float32Array, sampleRateHz: number, lo = 50, hi = 4000, stepHz = 1): number {
  const seg = x.subarray(0, Math.min(x.length, sampleRateHz));
  let best = -1;
  let bestF = lo;
  for (let f = lo; f <= hi; f += stepHz) {
    const p = toneFraction(seg, sampleRateHz, f);
    if (p > best) {
      best = p;
      bestF = f;
    }
  }
  return bestF;
}
