import { headers, type JetStreamClient, type NatsConnection } from 'nats';
import { Counter, Gauge, type Registry } from 'prom-client';

import type { FleetConfig } from '../config/sections/fleet.js';
import type { EventRecord, OutboxItem, OutboxStore, SegmentRecord } from '../history/contracts.js';
import type { FleetMessage, SourceBeat } from './contracts.js';
import { connectForever, ensureStream } from './nats.js';
import { keyOf, subjectOf, wireSegment } from './wire.js';

const CHANNEL = 'fleet';

export interface EdgeDeps {
  readonly site: string;
  readonly version: string;
  /** The persistent outbox (the history database); absent = memory only (history off). */
  readonly outbox?: OutboxStore;
  readonly registry: Registry;
  readonly log: (line: string) => void;
  readonly nowMs: () => number;
  readonly sources: () => readonly SourceBeat[];
}

interface Pending {
  readonly item: OutboxItem;
  readonly subject: string;
  readonly segment: boolean;
}

/**
 * An edge daemon's link to the hub. `addEvent`/`addSegment` never wait: records are
 * queued (bounded; over the bound the oldest segments go first, counted), moved to the
 * persistent outbox every flushSeconds, and published from there with a Nats-Msg-Id;
 * an outbox row is deleted only after JetStream acked it. While NATS is unreachable the
 * outbox grows up to outboxMaxRecords (then new segments are dropped, events kept) and
 * drains oldest first once it is back. A crash loses at most the in-memory queue.
 */
export class FleetEdge {
  private queue: Pending[] = [];
  /** Memory stand-in for the outbox when history is off. */
  private readonly memory: Pending[] = [];
  private nc: NatsConnection | undefined;
  private js: JetStreamClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beat: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private failing = false;
  /** Outbox rows written by this process and not yet acked (bounds the outbox). */
  private backlog = 0;
  private readonly subjects = new Map<string, string>();
  private readonly m: { published: Counter<'type'>; dropped: Counter<'reason'>; errors: Counter<never>; backlog: Gauge<never>; connected: Gauge<never> };

  constructor(
    private readonly cfg: FleetConfig,
    private readonly deps: EdgeDeps,
  ) {
    const registers = [deps.registry];
    this.m = {
      published: new Counter({ name: 'earshot_fleet_published_total', help: 'Fleet messages acknowledged by JetStream', labelNames: ['type'], registers }),
      dropped: new Counter({ name: 'earshot_fleet_dropped_total', help: 'Fleet records dropped (queue or outbox full)', labelNames: ['reason'], registers }),
      errors: new Counter({ name: 'earshot_fleet_publish_errors_total', help: 'Failed fleet publish rounds (retried)', registers }),
      backlog: new Gauge({ name: 'earshot_fleet_backlog', help: 'Fleet records waiting for a JetStream ack (memory queue + outbox)', registers }),
      connected: new Gauge({ name: 'earshot_fleet_connected', help: '1 while connected to NATS', registers }),
    };
    void this.connect();
    this.timer = setInterval(() => this.kick(), cfg.flushSeconds * 1000);
    this.timer.unref();
    this.beat = setInterval(() => void this.heartbeat(), cfg.heartbeatSeconds * 1000);
    this.beat.unref();
  }

  private async connect(): Promise<void> {
    const nc = await connectForever(this.cfg.url, `earshot-edge-${this.deps.site}`).catch((e: Error) => {
      this.deps.log(`fleet: cannot connect to ${this.cfg.url}: ${e.message}`);
      return undefined;
    });
    if (!nc) return;
    if (this.stopped) return void (await nc.close());
    this.nc = nc;
    this.m.connected.set(1);
    this.deps.log(`fleet: site '${this.deps.site}' connected to ${this.cfg.url}`);
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') this.m.connected.set(0);
        if (s.type === 'reconnect') this.m.connected.set(1);
      }
    })();
    for (;;) {
      try {
        await ensureStream(await nc.jetstreamManager({ timeout: 5000 }), this.cfg.stream, [`earshot.*.*.event`, `earshot.*.*.segment`, `earshot.*.*.heartbeat`], this.cfg.streamMaxAgeSeconds);
        break;
      } catch (e) {
        if (this.stopped) return;
        this.deps.log(`fleet: JetStream not ready (${(e as Error).message}); retrying`);
        await new Promise((r) => setTimeout(r, this.cfg.retrySeconds * 1000));
      }
    }
    this.js = nc.jetstream({ timeout: 5000 });
    void this.heartbeat();
    this.kick();
  }

  private subject(site: string, source: string, kind: 'event' | 'segment'): string {
    const k = `${source}\u0000${kind}`;
    let s = this.subjects.get(k);
    if (!s) this.subjects.set(k, (s = subjectOf('earshot', site, source, kind)));
    return s;
  }

  private enqueue(msg: FleetMessage, source: string): void {
    if (this.stopped) return;
    const segment = msg.type === 'segment';
    this.queue.push({ item: { channel: CHANNEL, key: keyOf(msg), payload: JSON.stringify(msg) }, subject: this.subject(this.deps.site, source, segment ? 'segment' : 'event'), segment });
    if (this.queue.length > this.cfg.queueMaxRecords) {
      const at = this.queue.findIndex((p) => p.segment);
      this.queue.splice(at < 0 ? 0 : at, 1);
      this.m.dropped.inc({ reason: 'queue' });
    }
  }

  addEvent(e: EventRecord): void {
    this.enqueue({ type: 'event', site: this.deps.site, queuedMs: this.deps.nowMs(), record: e }, e.stream.name);
  }

  addSegment(s: SegmentRecord): void {
    if (!this.cfg.publishSegments) return;
    this.enqueue({ type: 'segment', site: this.deps.site, queuedMs: this.deps.nowMs(), record: wireSegment(s) }, s.stream.name);
  }

  private kick(): void {
    this.running ??= this.round().finally(() => (this.running = undefined));
  }

  /** Queue -> outbox, then outbox -> JetStream until it is empty or a publish fails. */
  private async round(): Promise<void> {
    const moved = this.queue;
    this.queue = [];
    if (moved.length) {
      const keep = moved.filter((p) => !(p.segment && this.backlog >= this.cfg.outboxMaxRecords));
      if (keep.length < moved.length) this.m.dropped.inc({ reason: 'outbox' }, moved.length - keep.length);
      if (this.deps.outbox) {
        try {
          await this.deps.outbox.outboxPut(keep.map((p) => p.item));
        } catch (e) {
          // The history database failed: keep the records in memory for the next round.
          this.queue = [...keep, ...this.queue];
          this.deps.log(`fleet: outbox write failed: ${(e as Error).message}`);
          return;
        }
      } else this.memory.push(...keep);
      this.backlog += keep.length;
    }
    while (this.js && !this.stopped) {
      const batch = await this.pending();
      if (!batch.length) break;
      if (!(await this.publish(batch))) {
        await new Promise((r) => setTimeout(r, this.cfg.retrySeconds * 1000).unref());
        break;
      }
    }
    this.m.backlog.set(this.backlog + this.queue.length);
  }

  private async pending(): Promise<Pending[]> {
    if (!this.deps.outbox) return this.memory.slice(0, this.cfg.publishBatch);
    const items = await this.deps.outbox.outboxPending(CHANNEL, this.cfg.publishBatch);
    return items.map((item) => {
      const m = JSON.parse(item.payload) as FleetMessage;
      const source = m.type === 'heartbeat' ? '_' : m.record.stream.name;
      return { item, subject: this.subject(m.site, source, m.type === 'segment' ? 'segment' : 'event'), segment: m.type === 'segment' };
    });
  }

  /** Publishes a batch concurrently; acked items leave the outbox. True when all were acked. */
  private async publish(batch: readonly Pending[]): Promise<boolean> {
    const js = this.js!;
    const results = await Promise.allSettled(
      batch.map((p) => {
        const h = headers();
        h.set('Nats-Msg-Id', p.item.key);
        return js.publish(p.subject, Buffer.from(p.item.payload), { headers: h, timeout: 5000 });
      }),
    );
    const acked = batch.filter((_, i) => results[i]!.status === 'fulfilled');
    if (acked.length) {
      if (this.deps.outbox)
        await this.deps.outbox.outboxAck(
          CHANNEL,
          acked.map((p) => p.item.key),
        );
      else {
        const done = new Set(acked.map((p) => p.item.key));
        for (let i = this.memory.length - 1; i >= 0; i--) if (done.has(this.memory[i]!.item.key)) this.memory.splice(i, 1);
      }
      this.backlog = Math.max(0, this.backlog - acked.length);
      for (const p of acked) this.m.published.inc({ type: p.segment ? 'segment' : 'event' });
    }
    const ok = acked.length === batch.length;
    if (!ok) {
      this.m.errors.inc();
      if (!this.failing) {
        const why = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
        this.deps.log(`fleet: publish failed, keeping ${this.backlog} records in the outbox and retrying: ${(why.reason as Error).message}`);
      }
    } else if (this.failing) this.deps.log('fleet: publishing again');
    this.failing = !ok;
    return ok;
  }

  private async heartbeat(): Promise<void> {
    if (!this.js || this.stopped) return;
    const m: FleetMessage = { type: 'heartbeat', site: this.deps.site, sentMs: this.deps.nowMs(), version: this.deps.version, sources: this.deps.sources() };
    // Heartbeats are not stored and forwarded: a late one says nothing about now.
    await this.js.publish(subjectOf('earshot', this.deps.site, '_', 'heartbeat'), Buffer.from(JSON.stringify(m)), { timeout: 2000 }).catch(() => undefined);
  }

  /** Moves the queue to the outbox and publishes what it can within `budgetMs`; the rest waits in the outbox for the next start. */
  async stop(budgetMs = 3000): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.beat);
    await this.running;
    const last = this.round();
    await Promise.race([last, new Promise((r) => setTimeout(r, budgetMs).unref())]);
    this.stopped = true;
    await Promise.race([last, new Promise((r) => setTimeout(r, 1000).unref())]);
    this.m.connected.set(0);
    await this.nc?.close().catch(() => undefined);
  }
}
