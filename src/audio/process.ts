import { type ChildProcess, spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';

import { Observable } from 'rxjs';

import type { EarshotError } from '../errors.js';
import type { AudioChunk } from './contracts.js';
import { createS16leDecoder } from './pcm.js';

/** The one spawn signature sources use; node's spawn fits it, tests may wrap it (e.g. to change PATH). */
export type SpawnLike = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export const defaultSpawn: SpawnLike = nodeSpawn;

/** Keeps the last `max` non-empty stderr lines: tools print the real reason last. */
export function stderrTail(max = 20): { push(chunk: Buffer | string): void; lines(): string[]; last(): string } {
  const lines: string[] = [];
  let partial = '';
  return {
    push(chunk) {
      const parts = (partial + chunk.toString()).split(/\r?\n/);
      partial = parts.pop() ?? '';
      for (const p of parts) if (p.trim() !== '') lines.push(p.trim());
      if (lines.length > max) lines.splice(0, lines.length - max);
      if (partial.length > 4096) partial = partial.slice(-4096);
    },
    lines: () => (partial.trim() === '' ? [...lines] : [...lines, partial.trim()]),
    last() {
      const all = this.lines();
      return all[all.length - 1] ?? '';
    },
  };
}

export type ProcessFailure =
  | { readonly kind: 'spawn'; readonly error: NodeJS.ErrnoException }
  | { readonly kind: 'exit'; readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly stderr: readonly string[] };

export interface PcmProcessOptions {
  /** Starts the child. Called once per subscription; may throw synchronously. */
  readonly start: () => ChildProcess;
  readonly sampleRateHz: number;
  /** Maps a spawn error or an unrequested exit to the source's typed error. */
  readonly toError: (f: ProcessFailure) => EarshotError;
  /** Finite inputs (a URL) end with exit 0; a microphone never should. */
  readonly completeOnCleanExit: boolean;
  /** Grace period between SIGTERM and SIGKILL on unsubscribe. */
  readonly killGraceMs?: number;
}

/**
 * Runs a child that writes raw s16le mono to stdout as an Observable<AudioChunk>.
 * Unsubscribing sends SIGTERM (SIGKILL after the grace period) and suppresses every
 * later event of that child, so a requested stop never surfaces as an error; node
 * reaps the child on exit, so nothing is left as a zombie.
 */
export function pcmFromProcess(opts: PcmProcessOptions): Observable<AudioChunk> {
  return new Observable<AudioChunk>((subscriber) => {
    let child: ChildProcess;
    try {
      child = opts.start();
    } catch (e) {
      subscriber.error(opts.toError({ kind: 'spawn', error: e as NodeJS.ErrnoException }));
      return undefined;
    }
    const decoder = createS16leDecoder();
    const tail = stderrTail();
    let startSample = 0;
    let finished = false;
    const finish = (fn: () => void): void => {
      if (finished) return;
      finished = true;
      fn();
    };
    const onData = (buf: Buffer): void => {
      if (finished) return;
      const samples = decoder.push(buf);
      if (samples.length === 0) return;
      subscriber.next({ samples, sampleRateHz: opts.sampleRateHz, startSample });
      startSample += samples.length;
    };
    child.stdout?.on('data', onData);
    // Listeners stay attached for the child's lifetime: an 'error' without a listener
    // (spawn ENOENT, EPIPE, node-record-lpcm16's string errors) would crash the process.
    child.stdout?.on('error', () => undefined);
    child.stderr?.on('data', (d: Buffer) => tail.push(d));
    child.stderr?.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    child.on('error', (error: NodeJS.ErrnoException) => {
      finish(() => subscriber.error(opts.toError({ kind: 'spawn', error })));
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      finish(() => {
        if (code === 0 && opts.completeOnCleanExit) subscriber.complete();
        else subscriber.error(opts.toError({ kind: 'exit', code, signal, stderr: tail.lines() }));
      });
    });
    return () => {
      finished = true;
      child.stdout?.off('data', onData);
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), opts.killGraceMs ?? 2000);
      timer.unref();
      child.once('exit', () => clearTimeout(timer));
    };
  });
}

export interface CollectedProcess {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: readonly string[];
  readonly spawnError?: NodeJS.ErrnoException;
}

/** Runs a child to completion, buffering stdout (used for whole-file ffmpeg decodes). */
export function collectProcess(spawnImpl: SpawnLike, command: string, args: readonly string[]): Promise<CollectedProcess> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawnImpl(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ code: null, signal: null, stdout: Buffer.alloc(0), stderr: [], spawnError: e as NodeJS.ErrnoException });
      return;
    }
    const out: Buffer[] = [];
    const tail = stderrTail();
    let spawnError: NodeJS.ErrnoException | undefined;
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => tail.push(d));
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e;
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      resolve({ code, signal, stdout: Buffer.concat(out), stderr: tail.lines(), ...(spawnError ? { spawnError } : {}) });
    });
  });
}
