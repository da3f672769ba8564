import { Worker } from 'node:worker_threads';

import { EarshotError, type ErrorCode } from '../errors.js';
import type { HistoryBatch, OutboxItem, OutboxStore, RetentionPolicy, RetentionResult } from './contracts.js';
import type { SqliteStoreOptions } from './sqlite.js';

export type WorkerRequest =
  | { id: number; op: 'write'; batch: HistoryBatch }
  | { id: number; op: 'retain'; policy: RetentionPolicy }
  | { id: number; op: 'outboxPut'; items: readonly OutboxItem[] }
  | { id: number; op: 'outboxAck'; channel: string; keys: readonly string[] }
  | { id: number; op: 'outboxPending'; channel: string; limit: number }
  | { id: number; op: 'close' };

export type WorkerReply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; code: ErrorCode; message: string };

/** The write side of a store, as the HistoryWriter needs it. */
export interface HistorySink {
  write(batch: HistoryBatch): Promise<void>;
  retain(policy: RetentionPolicy): Promise<RetentionResult>;
  close(): Promise<void>;
}

/**
 * From dist, the worker is worker.js. From source (tests, `npm run earshot`), tsx's
 * loader does not reach worker threads on Node 20, so a small eval'd entry registers
 * it first and then imports worker.ts.
 */
export function spawnWorker(workerData: unknown, name = 'worker'): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, import.meta.url), { workerData });
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${name}.ts`, import.meta.url).href;
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData });
}

/**
 * A SQLite store in a worker thread. Batches are structured-cloned into the worker
 * (the caller keeps nothing); replies come back in request order.
 */
export class WorkerSink implements HistorySink, OutboxStore {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private dead: Error | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.worker = spawnWorker({ path, options });
    this.worker.on('message', (r: WorkerReply) => {
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      if (this.pending.size === 0) this.worker.unref();
      if (r.ok) p.resolve(r.value);
      else p.reject(new EarshotError(r.code, r.message));
    });
    const die = (e: Error) => {
      this.dead = new EarshotError('HISTORY_FAILED', `history writer thread stopped: ${e.message}`);
      for (const p of this.pending.values()) p.reject(this.dead);
      this.pending.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
    // Idle, the thread never keeps the process alive; a pending commit does (see call).
    this.worker.unref();
  }

  private call<T>(req: WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never): Promise<T> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.ref();
      this.worker.postMessage({ ...req, id });
    });
  }

  write(batch: HistoryBatch): Promise<void> {
    return this.call({ op: 'write', batch });
  }

  retain(policy: RetentionPolicy): Promise<RetentionResult> {
    return this.call({ op: 'retain', policy });
  }

  outboxPut(items: readonly OutboxItem[]): Promise<void> {
    return this.call({ op: 'outboxPut', items });
  }

  outboxAck(channel: string, keys: readonly string[]): Promise<void> {
    return this.call({ op: 'outboxAck', channel, keys });
  }

  outboxPending(channel: string, limit: number): Promise<OutboxItem[]> {
    return this.call({ op: 'outboxPending', channel, limit });
  }

  async close(): Promise<void> {
    if (!this.dead) await this.call({ op: 'close' }).catch(() => undefined);
    await this.worker.terminate();
  }
}
