import { createHmac } from 'node:crypto';

import { Counter, Gauge, type Registry } from 'prom-client';

import type { WebhookConfig } from '../config/sections/webhooks.js';
import type { OutboxItem, OutboxStore } from '../history/contracts.js';
import type { EventMessage } from './contracts.js';

export interface WebhookMetrics {
  readonly events: Counter<'url' | 'result'>;
  readonly queued: Gauge<'url'>;
}

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const registers = [registry];
  return {
    events: new Counter({ name: 'earshot_webhook_events_total', help: 'Webhook deliveries by result (queued, sent, failed attempt, dropped)', labelNames: ['url', 'result'], registers }),
    queued: new Gauge({ name: 'earshot_webhook_queued', help: 'Events waiting for a webhook receiver', labelNames: ['url'], registers }),
  };
}

export function signature(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export interface WebhookOptions {
  readonly cfg: WebhookConfig;
  readonly metrics: WebhookMetrics;
  readonly log: (line: string) => void;
  /** Persists queued events across restarts; absent (history off) = memory only. */
  readonly outbox?: OutboxStore;
}

/**
 * One receiver. Events are sent one at a time, in order; a non-2xx answer, timeout or
 * network error retries the same event after a doubling delay capped at retryMaxSeconds.
 * Each event is put in the outbox when accepted and deleted when the receiver took it,
 * so a restart sends what was left (at least once; receivers de-duplicate by `id`+`type`).
 */
export class WebhookDelivery {
  private queue: OutboxItem[] = [];
  private readonly channel: string;
  private loaded = false;
  private sending = false;
  private stopped = false;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: WebhookOptions) {
    this.channel = `webhook ${o.cfg.url}`;
    const outbox = o.outbox;
    if (!outbox) {
      this.loaded = true;
      return;
    }
    void outbox.outboxPending(this.channel, o.cfg.queueMaxEvents).then(
      (pending) => {
        const fresh = this.queue.filter((q) => !pending.some((p) => p.key === q.key));
        this.queue = [...pending, ...fresh];
        if (pending.length) o.log(`webhook ${o.cfg.url}: ${pending.length} events left from an earlier run`);
        this.ready();
      },
      (e: Error) => {
        o.log(`webhook ${o.cfg.url}: cannot read the outbox: ${e.message}`);
        this.ready();
      },
    );
  }

  private ready(): void {
    this.loaded = true;
    this.o.metrics.queued.set({ url: this.o.cfg.url }, this.queue.length);
    this.next();
  }

  wants(e: EventMessage): boolean {
    const l = this.o.cfg.labels;
    return l.length === 0 || l.some((x) => x === e.labelId || x.toLowerCase() === e.label.toLowerCase());
  }

  add(e: EventMessage): void {
    if (this.stopped) return;
    const { cfg, metrics, outbox } = this.o;
    const item: OutboxItem = { channel: this.channel, key: `${e.id}#${e.type}`, payload: JSON.stringify(e) };
    if (this.queue.length >= cfg.queueMaxEvents) {
      // The head may be in flight; drop the oldest behind it.
      const [dropped] = this.queue.splice(this.sending ? 1 : 0, 1);
      if (dropped) {
        metrics.events.inc({ url: cfg.url, result: 'dropped' });
        this.persist(() => outbox?.outboxAck(this.channel, [dropped.key]));
      }
    }
    this.queue.push(item);
    metrics.events.inc({ url: cfg.url, result: 'queued' });
    metrics.queued.set({ url: cfg.url }, this.queue.length);
    this.persist(() => outbox?.outboxPut([item]));
    this.next();
  }

  /** Outbox writes go in order through the writer thread; a failure is logged, delivery goes on from memory. */
  private persist(op: () => Promise<void> | undefined): void {
    this.writes = this.writes.then(op).catch((e: Error) => this.o.log(`webhook ${this.o.cfg.url}: outbox: ${e.message}`));
  }

  private next(): void {
    if (!this.loaded || this.sending || this.stopped || this.timer || this.queue.length === 0) return;
    this.sending = true;
    const item = this.queue[0]!;
    void this.post(item).then((ok) => {
      this.sending = false;
      const { cfg, metrics } = this.o;
      if (this.stopped) return;
      if (ok) {
        if (this.failures > 0) this.o.log(`webhook ${cfg.url}: delivering again`);
        this.failures = 0;
        if (this.queue[0] === item) this.queue.shift();
        metrics.events.inc({ url: cfg.url, result: 'sent' });
        metrics.queued.set({ url: cfg.url }, this.queue.length);
        this.persist(() => this.o.outbox?.outboxAck(this.channel, [item.key]));
        this.next();
      } else {
        metrics.events.inc({ url: cfg.url, result: 'failed' });
        const delay = Math.min(cfg.retryMaxSeconds, cfg.retryInitialSeconds * 2 ** this.failures++);
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.next();
        }, delay * 1000);
      }
    });
  }

  private async post(item: OutboxItem): Promise<boolean> {
    const { cfg } = this.o;
    this.abort = new AbortController();
    const t = setTimeout(() => this.abort?.abort(), cfg.timeoutSeconds * 1000);
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'earshot' };
      if (cfg.secret) headers['x-earshot-signature'] = signature(cfg.secret, item.payload);
      const res = await fetch(cfg.url, { method: 'POST', headers, body: item.payload, signal: this.abort.signal });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return true;
      if (this.failures === 0) this.o.log(`webhook ${cfg.url}: HTTP ${res.status}; retrying with backoff`);
      return false;
    } catch (e) {
      if (this.failures === 0 && !this.stopped) this.o.log(`webhook ${cfg.url}: ${(e as Error).message}; retrying with backoff`);
      return false;
    } finally {
      clearTimeout(t);
    }
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Gives the current POST up to `budgetMs`, then stops; what is left stays in the outbox. */
  async stop(budgetMs: number): Promise<void> {
    if (this.sending) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, budgetMs);
        const poll = setInterval(() => {
          if (!this.sending) {
            clearTimeout(t);
            clearInterval(poll);
            resolve();
          }
        }, 20);
        setTimeout(() => clearInterval(poll), budgetMs);
      });
    }
    this.stopped = true;
    clearTimeout(this.timer);
    this.abort?.abort();
    await this.writes;
  }
}
