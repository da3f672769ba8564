import { asapScheduler, asyncScheduler, Observable, type SchedulerLike } from 'rxjs';

import { EarshotError, toEarshotError } from '../errors.js';
import type { AudioChunk, DecodedAudio } from './contracts.js';
import { decodeAudioFile, type DecodeOptions } from './decode.js';

export interface FileSourceOptions extends DecodeOptions {
  /** Samples per chunk at the file's rate; default 0.1 s (1600 at 16 kHz). */
  readonly chunkSamples?: number;
  /** Restart at the beginning forever; startSample keeps counting across loops. */
  readonly loop?: boolean;
  /** Pace chunks at the audio's own rate (chunk k is due at k*chunk/rate s after subscribe). */
  readonly realtime?: boolean;
  /** Drives emission; default asapScheduler (fast) or asyncScheduler (realtime). Tests pass a TestScheduler. */
  readonly scheduler?: SchedulerLike;
  /** Replaces the decoder (e.g. already decoded audio); defaults to decodeAudioFile. */
  readonly decode?: (path: string, opts: DecodeOptions) => Promise<DecodedAudio>;
}

/** Copies `n` samples starting at `from`, wrapping around when looping (every looped chunk is full). */
export function sliceChunk(samples: Float32Array, from: number, n: number, loop: boolean): Float32Array {
  if (!loop) return samples.slice(from, Math.min(samples.length, from + n));
  const out = new Float32Array(n);
  let filled = 0;
  let pos = from % samples.length;
  while (filled < n) {
    const take = Math.min(n - filled, samples.length - pos);
    out.set(samples.subarray(pos, pos + take), filled);
    filled += take;
    pos = 0;
  }
  return out;
}

/**
 * Emits already decoded audio as chunks. One scheduled action per chunk keeps
 * unsubscription prompt and lets a virtual scheduler drive realtime pacing.
 * Due times come from the start time plus the sample count, never from summing
 * per-chunk delays, so pacing does not drift.
 */
export function chunkAudio(audio: DecodedAudio, opts: Omit<FileSourceOptions, 'decode' | 'ffmpegPath' | 'spawnImpl'> = {}): Observable<AudioChunk> {
  const rate = audio.sampleRateHz;
  const chunk = opts.chunkSamples ?? Math.max(1, Math.round(rate * 0.1));
  if (!Number.isInteger(chunk) || chunk <= 0) {
    return new Observable((s) => s.error(new EarshotError('INPUT_INVALID', `chunkSamples must be a positive integer, got ${chunk}`, { chunkSamples: chunk })));
  }
  const loop = opts.loop ?? false;
  const realtime = opts.realtime ?? false;
  const scheduler = opts.scheduler ?? (realtime ? asyncScheduler : asapScheduler);
  return new Observable<AudioChunk>((subscriber) => {
    const t0 = scheduler.now();
    const dueIn = (startSample: number): number => (realtime ? Math.max(0, t0 + (startSample * 1000) / rate - scheduler.now()) : 0);
    return scheduler.schedule(
      function emit(this: { schedule(state: number, delay: number): void }, state) {
        const startSample = state ?? 0;
        if (!loop && startSample >= audio.samples.length) {
          subscriber.complete();
          return;
        }
        const first = startSample === 0 && audio.nonFiniteSamples ? { nonFiniteSamples: audio.nonFiniteSamples } : {};
        subscriber.next({ samples: sliceChunk(audio.samples, startSample, chunk, loop), sampleRateHz: rate, startSample, ...first });
        const next = startSample + chunk;
        if (!subscriber.closed) this.schedule(next, dueIn(next));
      },
      0,
      0,
    );
  });
}

/**
 * A file as an Observable<AudioChunk>: decodes on subscribe (cold; each subscriber
 * decodes its own copy), then chunks at the file's own sample rate.
 */
export function fileSource(path: string, opts: FileSourceOptions = {}): Observable<AudioChunk> {
  const decode = opts.decode ?? decodeAudioFile;
  return new Observable<AudioChunk>((subscriber) => {
    let inner: { unsubscribe(): void } | undefined;
    let cancelled = false;
    decode(path, { ...(opts.ffmpegPath ? { ffmpegPath: opts.ffmpegPath } : {}), ...(opts.spawnImpl ? { spawnImpl: opts.spawnImpl } : {}) }).then(
      (audio) => {
        if (!cancelled) inner = chunkAudio(audio, opts).subscribe(subscriber);
      },
      (e: unknown) => {
        if (!cancelled) subscriber.error(toEarshotError(e, 'AUDIO_DECODE_FAILED'));
      },
    );
    return () => {
      cancelled = true;
      inner?.unsubscribe();
    };
  });
}
