import type { Readable } from 'node:stream';

import { type Observable, type SchedulerLike, throwError } from 'rxjs';

import type { SourceConfig } from '../config/sections/sources.js';
import { EarshotError } from '../errors.js';
import type { AudioChunk } from './contracts.js';
import { fileSource } from './file-source.js';
import { micSource } from './mic.js';
import type { SpawnLike } from './process.js';
import { rawPcmSource } from './raw.js';
import { urlSource } from './url.js';

/** The I/O a source may need; the daemon passes process.stdin, tests pass their own. */
export interface SourceDeps {
  readonly stdin?: Readable;
  readonly spawnImpl?: SpawnLike;
  readonly scheduler?: SchedulerLike;
  readonly ffmpegPath?: string;
}

/**
 * Builds the Observable for one configured source (config keys: see src/config/sections/sources.ts).
 * Never throws: every failure, including a missing stdin, arrives on the error channel.
 */
export function sourceFromConfig(cfg: SourceConfig, deps: SourceDeps = {}): Observable<AudioChunk> {
  const spawn = deps.spawnImpl ? { spawnImpl: deps.spawnImpl } : {};
  const ffmpeg = deps.ffmpegPath ? { ffmpegPath: deps.ffmpegPath } : {};
  switch (cfg.kind) {
    case 'mic':
      return micSource({ device: cfg.device, recorder: cfg.recorder, sampleRateHz: cfg.sampleRateHz, ...spawn });
    case 'file':
      return fileSource(cfg.path, { loop: cfg.loop, realtime: cfg.realtime, ...(deps.scheduler ? { scheduler: deps.scheduler } : {}), ...spawn, ...ffmpeg });
    case 'url':
      return urlSource(cfg.url, { ...spawn, ...ffmpeg });
    case 'stdin':
      if (!deps.stdin) return throwError(() => new EarshotError('INPUT_INVALID', `source '${cfg.id}' reads stdin but no stdin stream was provided`, { source: cfg.id }));
      return rawPcmSource(deps.stdin, { format: cfg.format, sampleRateHz: cfg.sampleRateHz });
  }
}
