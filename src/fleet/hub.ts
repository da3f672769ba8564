import { createServer, type Server } from 'node:http';

import { AckPolicy, type ConsumerMessages, DeliverPolicy, type JsMsg, nanos, type NatsConnection } from 'nats';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

import type { FleetConfig } from '../config/sections/fleet.js';
import { toEarshotError } from '../errors.js';
import type { EventRecord, HistoryBatch, HistoryStore, SegmentRecord } from '../history/contracts.js';
import { historyRoutes } from '../history/http.js';
import type { KeywordIndex } from '../history/keywords.js';
import { connectForever, ensureStream } from './nats.js';
import { SiteWatch } from './sites.js';
import { decode, eventFromWire, segmentFromWire } from './wire.js';

export interface HubOptions {
  readonly fleet: FleetConfig;
  readonly store: HistoryStore;
  readonly host: string;
  readonly port: number;
  readonly keywords?: KeywordIndex;
  readonly log: (line: string) => void;
  readonly nowMs?: () => number;
  /** Messages per PostgreSQL transaction. */
  readonly batchMax?: number;
}

export interface Hub {
  readonly address: { host: string; port: number };
  readonly registry: Registry;
  readonly sites: SiteWatch;
  stop(): Promise<void>;
}

/**
 * `earshot hub`: one durable JetStream consumer (shared by every hub process with the
 * same fleet.consumer name) -> batched, idempotent PostgreSQL writes -> ack. A message
 * is acked only after its commit; a failed commit naks the batch for redelivery. The
 * same history HTTP API as a daemon serves the store, plus /api/sites.
 */
export async function startHub(o: HubOptions): Promise<Hub> {
  const now = o.nowMs ?? Date.now;
  const batchMax = o.batchMax ?? 1000;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const m = {
    received: new Counter({ name: 'earshot_hub_messages_total', help: 'Fleet messages consumed, by type', labelNames: ['type'], registers }),
    invalid: new Counter({ name: 'earshot_hub_invalid_total', help: 'Fleet messages that were not valid (terminated)', registers }),
    writeErrors: new Counter({ name: 'earshot_hub_write_errors_total', help: 'Failed history commits (the batch is redelivered)', labelNames: ['code'], registers }),
    latency: new Histogram({ name: 'earshot_hub_latency_seconds', help: 'Edge hand-over to hub commit, per event/segment', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300], registers }),
    batch: new Histogram({ name: 'earshot_hub_commit_seconds', help: 'PostgreSQL commit time per batch', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers }),
  };
  const sites = new SiteWatch(o.fleet, o.store, now, o.log);
  let stopped = false;
  let nc: NatsConnection | undefined;
  let messages: ConsumerMessages | undefined;
  let buffer: JsMsg[] = [];
  let writing: Promise<void> | undefined;

  const commit = async (): Promise<void> => {
    const msgs = buffer;
    buffer = [];
    if (!msgs.length) return;
    const events: EventRecord[] = [];
    const segments: SegmentRecord[] = [];
    const queued: number[] = [];
    const ok: JsMsg[] = [];
    for (const msg of msgs) {
      try {
        const f = decode(msg.data);
        m.received.inc({ type: f.type });
        if (f.type === 'heartbeat') sites.heartbeat(f);
        else if (f.type === 'event') (events.push(eventFromWire(f.record, f.site)), queued.push(f.queuedMs));
        else (segments.push(segmentFromWire(f.record, f.site)), queued.push(f.queuedMs));
        ok.push(msg);
      } catch (e) {
        m.invalid.inc();
        o.log(`hub: dropping invalid message on ${msg.subject}: ${(e as Error).message}`);
        msg.term();
      }
    }
    const batch: HistoryBatch = { events, segments };
    const t0 = performance.now();
    try {
      if (events.length || segments.length) await o.store.write(batch);
      m.batch.observe((performance.now() - t0) / 1000);
      const at = now();
      for (const q of queued) m.latency.observe(Math.max(0, at - q) / 1000);
      for (const msg of ok) msg.ack();
    } catch (e) {
      const err = toEarshotError(e, 'HISTORY_FAILED');
      m.writeErrors.inc({ code: err.code });
      o.log(`hub: history write failed, redelivering ${ok.length} messages: [${err.code}] ${err.message}`);
      for (const msg of ok) msg.nak(2000);
    }
  };
  const flush = () => {
    writing ??= (async () => {
      while (buffer.length && !stopped) await commit();
    })().finally(() => (writing = undefined));
    return writing;
  };
  const tick = setInterval(() => void flush(), 50);

  const consume = async () => {
    nc = await connectForever(o.fleet.url, 'earshot-hub');
    if (stopped) return;
    o.log(`hub: connected to ${o.fleet.url}`);
    for (;;) {
      try {
        const jsm = await nc.jetstreamManager({ timeout: 5000 });
        await ensureStream(jsm, o.fleet.stream, ['earshot.*.*.event', 'earshot.*.*.segment', 'earshot.*.*.heartbeat'], o.fleet.streamMaxAgeSeconds);
        await jsm.consumers
          .add(o.fleet.stream, {
            durable_name: o.fleet.consumer,
            ack_policy: AckPolicy.Explicit,
            deliver_policy: DeliverPolicy.All,
            ack_wait: nanos(o.fleet.ackWaitSeconds * 1000),
            max_ack_pending: 20_000,
            max_deliver: -1,
          })
          .catch((e: Error) => {
            if (!/already|exists/i.test(e.message)) throw e;
          });
        const consumer = await nc.jetstream().consumers.get(o.fleet.stream, o.fleet.consumer);
        messages = await consumer.consume({
          max_messages: batchMax * 2,
          callback: (msg) => {
            buffer.push(msg);
            if (buffer.length >= batchMax) void flush();
          },
        });
        await messages.closed();
        if (stopped) return;
      } catch (e) {
        if (stopped) return;
        o.log(`hub: consumer failed (${(e as Error).message}); retrying`);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const consuming = consume();

  const routes = historyRoutes(() => o.store, o.keywords, now);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://hub');
    const route = routes.get(url.pathname);
    if (route) return void route(req, res, url);
    if (url.pathname === '/api/sites') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ sites: sites.list() }));
    if (url.pathname === '/healthz')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', nats: nc && !nc.isClosed() ? 'connected' : 'connecting', sites: sites.list().length }));
    if (url.pathname === '/metrics') return void registry.metrics().then((t) => res.writeHead(200, { 'content-type': registry.contentType }).end(t));
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${url.pathname}` }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, resolve);
  });
  const addr = server.address() as { address: string; port: number };
  return {
    address: { host: addr.address, port: addr.port },
    registry,
    sites,
    async stop() {
      clearInterval(tick);
      sites.stop();
      await messages?.close().catch(() => undefined);
      // What is buffered is committed and acked; anything later is redelivered to another hub.
      await flush();
      stopped = true;
      await writing;
      await nc?.drain().catch(() => undefined);
      await Promise.race([consuming, new Promise((r) => setTimeout(r, 2000).unref())]);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
    },
  };
}
