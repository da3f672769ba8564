import { statSync } from 'node:fs';

import { AckPolicy, headers, type JsMsg, nanos, type NatsConnection } from 'nats';

import type { FleetConfig } from '../config/sections/fleet.js';
import { EarshotError, toEarshotError } from '../errors.js';
import type { HistoryStore } from '../history/contracts.js';
import { sha256File, type TaggerPool } from '../history/indexer.js';
import type { IndexJob } from './contracts.js';
import { connectForever, ensureStream } from './nats.js';

/** The work-queue stream of `earshot index --queue`: a message leaves it once a worker acked it. */
export const INDEX_STREAM = 'EARSHOT_INDEX';
export const INDEX_SUBJECT = 'earshot.index.file';
const WORKERS = 'earshot-index-workers';

async function queue(nc: NatsConnection, cfg: FleetConfig) {
  const jsm = await nc.jetstreamManager({ timeout: 10_000 });
  await ensureStream(jsm, INDEX_STREAM, [INDEX_SUBJECT], cfg.streamMaxAgeSeconds, true);
  await jsm.consumers.add(INDEX_STREAM, { durable_name: WORKERS, ack_policy: AckPolicy.Explicit, ack_wait: nanos(cfg.ackWaitSeconds * 1000), max_deliver: 5 }).catch((e: Error) => {
    if (!/already|exists/i.test(e.message)) throw e;
  });
  return jsm;
}

export interface QueueStatus {
  /** Files not yet taken by a worker. */
  readonly waiting: number;
  /** Taken, not yet acknowledged (being indexed, or by a worker that died: redelivered after ackWaitSeconds). */
  readonly inProgress: number;
}

export async function queueStatus(nc: NatsConnection, cfg: FleetConfig): Promise<QueueStatus> {
  const jsm = await queue(nc, cfg);
  const c = await jsm.consumers.info(INDEX_STREAM, WORKERS);
  return { waiting: c.num_pending, inProgress: c.num_ack_pending };
}

/** Enqueues files (absolute paths every worker can read: a shared mount); a file already waiting is not queued twice. */
export async function enqueueFiles(nc: NatsConnection, cfg: FleetConfig, files: readonly string[], nowMs = Date.now()): Promise<number> {
  await queue(nc, cfg);
  const js = nc.jetstream({ timeout: 10_000 });
  let added = 0;
  for (const path of files) {
    const st = statSync(path);
    const h = headers();
    h.set('Nats-Msg-Id', `${path}:${st.size}:${st.mtimeMs}`);
    const job: IndexJob = { path, enqueuedMs: nowMs };
    const ack = await js.publish(INDEX_SUBJECT, Buffer.from(JSON.stringify(job)), { headers: h });
    if (!ack.duplicate) added++;
  }
  return added;
}

export interface WorkerOptions {
  readonly fleet: FleetConfig;
  readonly url: string;
  readonly store: HistoryStore;
  readonly pool: TaggerPool;
  readonly log: (line: string) => void;
  readonly onFile?: (path: string, outcome: 'indexed' | 'skipped' | 'failed') => void;
}

/**
 * `earshot worker`: pulls one file at a time, tags it and writes it in one putFile
 * transaction, then acks. While tagging it tells JetStream it is still working every
 * ackWaitSeconds/3, so a long file is not redelivered; a worker that dies stops doing
 * so and the file goes to another worker after ackWaitSeconds. The store's putFile
 * replaces a file's rows, so a file finished twice (a worker died after its commit,
 * before its ack) is still stored once.
 */
export async function runIndexWorker(o: WorkerOptions): Promise<{ stop: () => Promise<void>; done: Promise<void> }> {
  const nc = await connectForever(o.url, 'earshot-index-worker');
  await queue(nc, o.fleet);
  const consumer = await nc.jetstream().consumers.get(INDEX_STREAM, WORKERS);
  let stopped = false;
  const one = async (msg: JsMsg): Promise<void> => {
    const job = JSON.parse(msg.string()) as IndexJob;
    const keepAlive = setInterval(() => msg.working(), (o.fleet.ackWaitSeconds * 1000) / 3);
    try {
      o.log(`worker: indexing ${job.path}`);
      const st = statSync(job.path);
      const sha256 = await sha256File(job.path);
      const prev = await o.store.fileState(job.path);
      if (prev && prev.sizeBytes === st.size && prev.mtimeMs === st.mtimeMs && prev.sha256 === sha256) {
        o.onFile?.(job.path, 'skipped');
      } else {
        const r = await o.pool.tag(job.path);
        await o.store.putFile({ path: job.path, sizeBytes: st.size, mtimeMs: st.mtimeMs, sha256, durationSeconds: r.durationSeconds, model: r.model }, r.batch);
        o.onFile?.(job.path, 'indexed');
      }
      msg.ack();
    } catch (e) {
      const err = toEarshotError(e, 'AUDIO_FILE_NOT_FOUND');
      if (err.code === 'HISTORY_FAILED' || err.code === 'HISTORY_FULL') {
        // The store is away: another try later (or by another worker).
        o.log(`worker: ${job.path}: [${err.code}] ${err.message}; redelivering`);
        msg.nak(5000);
      } else {
        // A file that cannot be read or decoded is reported and never retried.
        o.log(`worker: failed [${err.code}] ${job.path}: ${err.message}`);
        o.onFile?.(job.path, 'failed');
        msg.term();
      }
    } finally {
      clearInterval(keepAlive);
    }
  };
  const done = (async () => {
    while (!stopped) {
      const msg = await consumer.next({ expires: 2000 }).catch((e: Error) => {
        o.log(`worker: ${e.message}`);
        return null;
      });
      if (msg) await one(msg);
    }
  })();
  return {
    done,
    async stop() {
      stopped = true;
      await done;
      await nc.drain().catch(() => undefined);
    },
  };
}

export function requireQueueUrl(url: string | undefined): string {
  if (!url || !/^(nats|tls):\/\//.test(url)) throw new EarshotError('INPUT_INVALID', `--queue must be a nats:// URL, got '${url ?? ''}'`, { flag: '--queue' });
  return url;
}
