import type { ChildProcess } from 'node:child_process';

import recorderLib from 'node-record-lpcm16';
import recorders from 'node-record-lpcm16/recorders/index.js';
import type { Observable } from 'rxjs';

import { EarshotError } from '../errors.js';
import type { AudioChunk } from './contracts.js';
import { pcmFromProcess, type ProcessFailure, type SpawnLike } from './process.js';

export type RecorderName = 'arecord' | 'sox';

export interface MicSourceOptions {
  /** ALSA PCM name for arecord (-D), AUDIODEV for sox. Default "default". */
  readonly device?: string;
  readonly recorder?: RecorderName;
  readonly sampleRateHz?: number;
  /**
   * Spawns the recorder command built by node-record-lpcm16's own recorder table
   * instead of letting node-record-lpcm16 spawn it (it calls child_process.spawn
   * directly and offers no way to set PATH or env). Used to point at a different
   * binary location or ALSA configuration.
   */
  readonly spawnImpl?: SpawnLike;
  readonly killGraceMs?: number;
}

/** stderr lines (arecord via alsa-lib, sox) that mean "this capture device does not exist". */
const DEVICE_MISSING = [
  /Unknown PCM/i,
  /audio open error: No such (file or directory|device)/i,
  /cannot find card/i,
  /Cannot get card index/i,
  /snd_pcm_open error/i,
  /no default audio device/i,
  /can't open input/i,
  /pcm_file.*open .* failed/i,
];

/** Maps a recorder failure to the mic error codes; pure so every branch is testable from real stderr. */
export function micFailureToError(recorder: RecorderName, device: string, f: ProcessFailure): EarshotError {
  if (f.kind === 'spawn') {
    if (f.error.code === 'ENOENT') {
      const pkg = recorder === 'arecord' ? 'alsa-utils' : 'sox';
      return new EarshotError('MIC_BINARY_NOT_FOUND', `${recorder} not found on PATH (install ${pkg}): ${f.error.message}`, { recorder, device }, { cause: f.error });
    }
    return new EarshotError('MIC_FAILED', `cannot start ${recorder} for device '${device}': ${f.error.message}`, { recorder, device }, { cause: f.error });
  }
  const reason = [...f.stderr].reverse().find((l) => DEVICE_MISSING.some((re) => re.test(l)));
  const exit = f.code !== null ? `code ${f.code}` : `signal ${f.signal}`;
  const details = { recorder, device, code: f.code, signal: f.signal, stderr: f.stderr };
  if (reason !== undefined) {
    return new EarshotError(
      'MIC_DEVICE_NOT_FOUND',
      `capture device '${device}' not found (${recorder} exited with ${exit}): ${reason}; list capture devices with \`earshot devices\`, or tag a file with \`--source file:PATH\``,
      details,
    );
  }
  const last = f.stderr[f.stderr.length - 1] ?? 'no error output';
  return new EarshotError('MIC_FAILED', `${recorder} on device '${device}' exited unexpectedly with ${exit}: ${last}`, details);
}

function recordOptions(recorder: RecorderName, device: string, sampleRateHz: number) {
  // Raw, not the library's default WAV: a streamed WAV header would be read as samples.
  return { sampleRate: sampleRateHz, channels: 1, recorder, device, audioType: 'raw' } as const;
}

/**
 * Microphone capture as s16le mono -> Observable<AudioChunk> (x/32768).
 *
 * Default path: node-record-lpcm16's record(). Its quirks are handled here:
 * its ChildProcess is taken from `recording.process` in the same tick, so a
 * missing binary's 'error' (spawn ENOENT) has a listener before it fires instead of
 * crashing the process; stderr is read from that process (the library only logs it);
 * the string 'error' it emits on every non-zero or signalled exit - including our own
 * stop() - is swallowed and the exit is classified from code + stderr instead.
 * A recorder that exits on its own is an error (MIC_*), even with code 0: a
 * microphone has no end. Unsubscribe stops it with no error emitted.
 */
export function micSource(opts: MicSourceOptions = {}): Observable<AudioChunk> {
  const device = opts.device ?? 'default';
  const recorder = opts.recorder ?? 'arecord';
  const sampleRateHz = opts.sampleRateHz ?? 16000;
  const options = recordOptions(recorder, device, sampleRateHz);
  const start = (): ChildProcess => {
    if (opts.spawnImpl) {
      const { cmd, args, spawnOptions } = recorders.load(recorder)(options);
      return opts.spawnImpl(cmd, args.map(String), { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] });
    }
    return recorderLib.record(options).process;
  };
  return pcmFromProcess({
    start,
    sampleRateHz,
    completeOnCleanExit: false,
    toError: (f) => micFailureToError(recorder, device, f),
    ...(opts.killGraceMs !== undefined ? { killGraceMs: opts.killGraceMs } : {}),
  });
}
