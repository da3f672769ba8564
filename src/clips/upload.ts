import { readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { toEarshotError } from '../errors.js';
import type { Storage } from '../storage/contracts.js';
import type { ClipMetrics } from './metrics.js';

/** A clip's files in upload order: the audio last, so an uploaded audio object means a complete clip. */
const EXTS = ['json', 'png', 'flac', 'opus'] as const;

export interface ClipUploaderOptions {
  readonly dir: string;
  readonly storage: Storage;
  readonly metrics: ClipMetrics;
  readonly log: (line: string) => void;
  readonly retryInitialSeconds: number;
  readonly retryMaxSeconds: number;
}

/**
 * clips.storageUrl: finished clips wait in clips.dir (the local spool) and are
 * uploaded one at a time, in order; their local files are removed once every file is
 * stored. When the object store is down the clip stays spooled and the same clip is
 * retried after a doubling delay (capped), so nothing is lost or reordered. The spool
 * is bounded by the caller (no new clip opens while `spoolBytes` is at clips.spoolMaxBytes).
 * Nothing here runs on the live path: file reads and uploads are async.
 */
export class ClipUploader {
  private readonly queue: { id: string; bytes: number }[] = [];
  private bytes = 0;
  private running = false;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private current: Promise<void> | undefined;
  private idle: (() => void)[] = [];

  constructor(private readonly o: ClipUploaderOptions) {}

  get spoolBytes(): number {
    return this.bytes;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** A finished clip (all its files written) to upload. */
  enqueue(id: string, bytes: number): void {
    if (this.queue.some((q) => q.id === id)) return;
    this.queue.push({ id, bytes });
    this.bytes += bytes;
    this.o.metrics.spoolBytes.set(this.bytes);
    this.next();
  }

  /** Resolves when the spool is empty (tests, stop with a budget). */
  drained(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private next(): void {
    if (this.running || this.stopped || this.timer || this.queue.length === 0) return;
    this.running = true;
    const head = this.queue[0]!;
    this.current = this.upload(head.id).then((ok) => {
      this.running = false;
      if (this.stopped) return;
      const { metrics, log, retryInitialSeconds, retryMaxSeconds, storage } = this.o;
      if (ok) {
        if (this.failures > 0) log(`clips: ${storage.url} reachable again; uploading the spool`);
        this.failures = 0;
        this.queue.shift();
        this.bytes -= head.bytes;
        metrics.spoolBytes.set(this.bytes);
        metrics.uploads.inc({ result: 'ok' });
        if (this.queue.length === 0) for (const f of this.idle.splice(0)) f();
        this.next();
        return;
      }
      metrics.uploads.inc({ result: 'failed' });
      const delay = Math.min(retryMaxSeconds, retryInitialSeconds * 2 ** this.failures++);
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.next();
      }, delay * 1000);
    });
  }

  private async upload(id: string): Promise<boolean> {
    const { dir, storage, log } = this.o;
    try {
      const present: string[] = [];
      for (const ext of EXTS) {
        const f = join(dir, `${id}.${ext}`);
        if (!(await stat(f).catch(() => undefined))) continue;
        await storage.writeAtomic(`${id}.${ext}`, await readFile(f));
        present.push(f);
      }
      for (const f of present) await rm(f, { force: true });
      return true;
    } catch (e) {
      if (this.failures === 0) log(`clips: upload of ${id} to ${storage.url} failed: ${toEarshotError(e).message}; the clip stays spooled and is retried with backoff`);
      return false;
    }
  }

  /** Lets the current upload finish; what is left stays spooled for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }
}
