import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

import { connect, type IClientOptions, type MqttClient } from 'mqtt';

import type { MqttConfig } from '../config/sections/mqtt.js';
import { EarshotError } from '../errors.js';
import type { OutboxStore } from '../history/contracts.js';
import type { EventMessage, IntegrationHealth } from './contracts.js';
import { type DiscoveryContext, discoveryFilter, discoveryMessages, sourceTopic, statusTopic, type WatchedLabel } from './discovery.js';
import type { MqttMetrics } from './metrics.js';
import { slug } from './slug.js';

export interface MqttPublisherOptions {
  readonly cfg: MqttConfig;
  readonly sources: readonly string[];
  readonly watched: readonly WatchedLabel[];
  readonly version: string;
  readonly metrics: MqttMetrics;
  readonly log: (line: string) => void;
  /** Persists queued event messages across restarts (history's outbox); absent = memory only. */
  readonly outbox?: OutboxStore;
}

/** Outbox channel of the MQTT event messages (one per daemon: a changed broker URL still gets what was left). */
export const MQTT_CHANNEL = 'mqtt';

interface Queued {
  readonly key: string;
  readonly topic: string;
  readonly payload: string;
  /** Given to mqtt.js, which keeps it (and resends it after a reconnect) until the broker acknowledges it. */
  handed: boolean;
}

type MqttHealth = NonNullable<IntegrationHealth['mqtt']>;

function readPem(path: string, what: string): Buffer | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path);
  } catch (e) {
    throw new EarshotError('CONFIG_INVALID', `mqtt.tls.${what}: cannot read ${path} (${(e as Error).message})`, { path });
  }
}

/** mqtt.js options from config: last will `offline` (retained) on the status topic, TLS files read once at start. */
export function clientOptions(cfg: MqttConfig): IClientOptions {
  const ca = readPem(cfg.tls.ca, 'ca');
  const cert = readPem(cfg.tls.cert, 'cert');
  const key = readPem(cfg.tls.key, 'key');
  return {
    clientId: cfg.clientId || `earshot-${hostname()}`,
    ...(cfg.username ? { username: cfg.username } : {}),
    ...(cfg.password ? { password: cfg.password } : {}),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    clean: true,
    reconnectPeriod: cfg.reconnectSeconds * 1000,
    connectTimeout: cfg.connectTimeoutSeconds * 1000,
    // Event messages are bounded by our own queue; mqtt.js must not grow an unbounded offline queue of qos 0 ones.
    queueQoSZero: false,
    will: { topic: statusTopic(cfg), payload: Buffer.from('offline'), qos: cfg.qos, retain: true },
  };
}

/**
 * The MQTT side of the integrations. Event messages wait in a bounded queue and are
 * handed to mqtt.js in order, at most inFlightMax at a time, only while connected; one
 * leaves the queue when the broker acknowledges it. mqtt.js keeps the handed ones
 * (qos ≥ 1) and resends them itself after a reconnect, so we never publish one twice.
 * ON/OFF states are retained and last-value-wins: a reconnect republishes the current ones.
 */
export class MqttPublisher {
  private readonly client: MqttClient;
  private readonly queue: Queued[] = [];
  private inFlight = 0;
  private readonly states = new Map<string, string>();
  private readonly lastTopMs = new Map<string, number>();
  private readonly discovery: DiscoveryContext;
  private readonly ownDiscovery = new Set<string>();
  private readonly syncTopic: string;
  private state: MqttHealth['state'] = 'connecting';
  private lastError: string | null = null;
  private drained: (() => void) | undefined;
  /** False until what an earlier run left in the outbox is queued ahead of this run's events. */
  private loaded: boolean;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: MqttPublisherOptions) {
    const { cfg } = o;
    const opts = clientOptions(cfg);
    this.discovery = { cfg, nodeId: slug(opts.clientId!), version: o.version };
    this.syncTopic = `${cfg.topicPrefix}/_sync/${this.discovery.nodeId}`;
    for (const w of o.watched) this.states.set(sourceTopic(cfg, w.sourceId, w.slug), 'OFF');
    this.client = connect(cfg.url, opts);
    this.client.on('connect', () => this.onConnect());
    this.client.on('close', () => {
      if (this.state === 'stopped') return;
      if (this.state === 'connected') o.log(`mqtt: disconnected from ${cfg.url}; events queue until it is back`);
      this.state = 'disconnected';
      o.metrics.connected.set(0);
    });
    this.client.on('error', (e) => {
      if (this.lastError !== e.message) o.log(`mqtt: ${cfg.url}: ${e.message}`);
      this.lastError = e.message;
    });
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload));
    this.loaded = !o.outbox;
    void o.outbox?.outboxPending(MQTT_CHANNEL, cfg.queueMaxEvents).then(
      (pending) => {
        const fresh = new Set(this.queue.map((q) => q.key));
        const old = pending
          .filter((p) => !fresh.has(p.key))
          .map((p) => ({ key: p.key, topic: sourceTopic(cfg, (JSON.parse(p.payload) as EventMessage).source, 'event'), payload: p.payload, handed: false }));
        this.queue.unshift(...old);
        if (old.length) o.log(`mqtt: ${old.length} event messages left from an earlier run`);
        this.ready();
      },
      (e: Error) => {
        o.log(`mqtt: cannot read the outbox: ${e.message}`);
        this.ready();
      },
    );
  }

  private ready(): void {
    this.loaded = true;
    this.o.metrics.queued.set(this.queue.length);
    this.pump();
  }

  /** Outbox writes go in order through the writer thread; a failure is logged, delivery goes on from memory. */
  private persist(op: (outbox: OutboxStore) => Promise<void>): void {
    const outbox = this.o.outbox;
    if (!outbox) return;
    this.writes = this.writes.then(() => op(outbox)).catch((e: Error) => this.o.log(`mqtt: outbox: ${e.message}`));
  }

  health(): MqttHealth {
    return { state: this.state, queued: this.queue.length, lastError: this.lastError };
  }

  private onConnect(): void {
    const { cfg, metrics, log } = this.o;
    this.state = 'connected';
    this.lastError = null;
    metrics.connected.set(1);
    metrics.connects.inc();
    log(`mqtt: connected to ${cfg.url}`);
    const retained = { qos: cfg.qos, retain: true } as const;
    this.client.publish(statusTopic(cfg), 'online', retained);
    if (cfg.discovery) {
      const msgs = discoveryMessages(this.discovery, this.o.sources, this.o.watched);
      for (const m of msgs) {
        this.ownDiscovery.add(m.topic);
        this.client.publish(m.topic, m.payload, retained);
      }
      // Retained configs of ours that are no longer configured (a removed label) are cleared:
      // they arrive on subscribe, before the sync message we send after it.
      this.client.subscribe([discoveryFilter(this.discovery), this.syncTopic], { qos: 1 }, (err) => {
        if (!err) this.client.publish(this.syncTopic, '1', { qos: 1 });
      });
    }
    for (const [topic, v] of this.states) this.client.publish(topic, v, retained);
    this.pump();
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (topic === this.syncTopic) {
      this.client.unsubscribe([discoveryFilter(this.discovery), this.syncTopic]);
      return;
    }
    if (payload.length > 0 && !this.ownDiscovery.has(topic)) {
      this.o.log(`mqtt: removing discovery entity ${topic}`);
      this.client.publish(topic, '', { qos: this.o.cfg.qos, retain: true });
    }
  }

  event(e: EventMessage): void {
    if (this.state === 'stopped') return;
    const { cfg, metrics } = this.o;
    if (this.queue.length >= cfg.queueMaxEvents) {
      const i = this.queue.findIndex((q) => !q.handed);
      if (i >= 0) {
        const [dropped] = this.queue.splice(i, 1);
        metrics.events.inc({ result: 'dropped' });
        this.persist((b) => b.outboxAck(MQTT_CHANNEL, [dropped!.key]));
      }
    }
    const q: Queued = { key: `${e.id}#${e.type}`, topic: sourceTopic(cfg, e.source, 'event'), payload: JSON.stringify(e), handed: false };
    this.queue.push(q);
    this.persist((b) => b.outboxPut([{ channel: MQTT_CHANNEL, key: q.key, payload: q.payload }]));
    metrics.events.inc({ result: 'queued' });
    metrics.queued.set(this.queue.length);
    this.pump();
  }

  /** Retained ON/OFF of a watched label; sent now if connected, else on (re)connect. */
  setState(sourceId: string, labelSlug: string, on: boolean): void {
    const topic = sourceTopic(this.o.cfg, sourceId, labelSlug);
    const v = on ? 'ON' : 'OFF';
    if (this.states.get(topic) === v) return;
    this.states.set(topic, v);
    if (this.state === 'connected') this.client.publish(topic, v, { qos: this.o.cfg.qos, retain: true });
  }

  /** Top label, at most once per topThrottleSeconds per source; dropped while disconnected (a fresher one follows). */
  top(sourceId: string, nowMs: number, payload: () => string): void {
    if (this.state !== 'connected') return;
    const last = this.lastTopMs.get(sourceId);
    if (last !== undefined && nowMs - last < this.o.cfg.topThrottleSeconds * 1000) return;
    this.lastTopMs.set(sourceId, nowMs);
    this.client.publish(sourceTopic(this.o.cfg, sourceId, 'top'), payload(), { qos: 0 });
  }

  /** Level in dBFS; dropped while disconnected (a fresher one follows). */
  level(sourceId: string, dbfs: string): void {
    if (this.state !== 'connected') return;
    this.client.publish(sourceTopic(this.o.cfg, sourceId, 'level'), dbfs, { qos: 0 });
  }

  private pump(): void {
    const { cfg, metrics } = this.o;
    if (!this.loaded) return;
    for (const q of this.queue) {
      if (this.state !== 'connected' || this.inFlight >= cfg.inFlightMax) return;
      if (q.handed) continue;
      q.handed = true;
      this.inFlight++;
      this.client.publish(q.topic, q.payload, { qos: cfg.qos }, (err) => {
        this.inFlight--;
        if (err) {
          // Only on a forced end (stop) or a refused packet: it is given back, to go again if there is a next connection.
          q.handed = false;
          metrics.events.inc({ result: 'failed' });
        } else {
          const i = this.queue.indexOf(q);
          if (i >= 0) this.queue.splice(i, 1);
          this.persist((b) => b.outboxAck(MQTT_CHANNEL, [q.key]));
          metrics.events.inc({ result: 'sent' });
          metrics.queued.set(this.queue.length);
        }
        if (this.queue.length === 0 && this.inFlight === 0) this.drained?.();
        this.pump();
      });
    }
  }

  /** Waits up to `budgetMs` for queued events to be acknowledged, publishes `offline`, disconnects. */
  async stop(budgetMs: number): Promise<void> {
    if (this.state === 'stopped') return;
    if (this.state === 'connected' && (this.queue.length > 0 || this.inFlight > 0)) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, budgetMs);
        this.drained = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    const connected = this.state === 'connected';
    this.state = 'stopped';
    this.o.metrics.connected.set(0);
    if (this.queue.length) this.o.log(`mqtt: ${this.queue.length} event messages not acknowledged before stopping`);
    if (connected) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, budgetMs);
        this.client.publish(statusTopic(this.o.cfg), 'offline', { qos: this.o.cfg.qos, retain: true }, () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    await this.client.endAsync(!connected);
    await this.writes;
  }
}
