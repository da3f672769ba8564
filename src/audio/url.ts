import type { Observable } from 'rxjs';

import { EarshotError } from '../errors.js';
import type { AudioChunk } from './contracts.js';
import { defaultSpawn, pcmFromProcess, type ProcessFailure, type SpawnLike } from './process.js';

export interface UrlSourceOptions {
  readonly ffmpegPath?: string;
  readonly spawnImpl?: SpawnLike;
  /** Output rate ffmpeg resamples to (default 16000). */
  readonly sampleRateHz?: number;
  readonly killGraceMs?: number;
  /** Fail (STREAM_FAILED) when the input delivers nothing for this long (ffmpeg -rw_timeout); default 30. */
  readonly stallTimeoutSeconds?: number;
}

/** ffmpeg arguments: decode anything ffmpeg can open, downmix, resample, raw s16le on stdout. */
export function ffmpegUrlArgs(url: string, sampleRateHz: number, stallTimeoutSeconds = 30): string[] {
  // Without -rw_timeout a server that stops sending leaves ffmpeg (and the source) hanging forever.
  const rwTimeoutUs = String(Math.round(stallTimeoutSeconds * 1e6));
  return ['-nostdin', '-hide_banner', '-loglevel', 'error', '-rw_timeout', rwTimeoutUs, '-i', url, '-vn', '-f', 's16le', '-ac', '1', '-ar', String(sampleRateHz), 'pipe:1'];
}

export function urlFailureToError(url: string, ffmpeg: string, f: ProcessFailure): EarshotError {
  if (f.kind === 'spawn') {
    const why = f.error.code === 'ENOENT' ? `ffmpeg not found (${ffmpeg})` : `cannot start ffmpeg (${ffmpeg}): ${f.error.message}`;
    return new EarshotError('STREAM_FAILED', `${url}: ${why}`, { url, ffmpeg }, { cause: f.error });
  }
  const last = f.stderr[f.stderr.length - 1] ?? 'no error output';
  const exit = f.code !== null ? `code ${f.code}` : `signal ${f.signal}`;
  return new EarshotError('STREAM_FAILED', `${url}: ffmpeg exited with ${exit}: ${last}`, { url, ffmpeg, code: f.code, signal: f.signal, stderr: f.stderr });
}

/**
 * Any ffmpeg input (http(s), rtsp, a local path...) as Observable<AudioChunk>
 * (16 kHz mono by default). Completes when ffmpeg exits 0 (input ended);
 * a non-zero exit is STREAM_FAILED carrying ffmpeg's last stderr line.
 */
export function urlSource(url: string, opts: UrlSourceOptions = {}): Observable<AudioChunk> {
  const ffmpeg = opts.ffmpegPath ?? 'ffmpeg';
  const sampleRateHz = opts.sampleRateHz ?? 16000;
  const spawnImpl = opts.spawnImpl ?? defaultSpawn;
  return pcmFromProcess({
    start: () => spawnImpl(ffmpeg, ffmpegUrlArgs(url, sampleRateHz, opts.stallTimeoutSeconds), { stdio: ['ignore', 'pipe', 'pipe'] }),
    sampleRateHz,
    completeOnCleanExit: true,
    toError: (f) => urlFailureToError(url, ffmpeg, f),
    ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
  });
}
