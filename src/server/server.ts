import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { ServerConfig } from '../config/sections/server.js';
import type { LabelInfo } from '../classify/contracts.js';
import type { LabelEvent, ScoreFrame } from '../events/contracts.js';
import { EarshotError, toEarshotError } from '../errors.js';
import { Client } from './client.js';
import { QueueBudget } from './budget.js';
import { originAllowed } from './origin.js';
import { authorized, httpAccess, sendAuthFailed } from './auth.js';
import { SubscriberQueue } from './queue.js';
import type { DaemonMetrics } from './metrics.js';
import type { Ontology } from './ontology.js';
import { errorMessage, eventMessage, helloMessage, labelsMessage, parseClientMessage, statusMessage, type ModelInfo, type SourceInfo, type SourceStatus } from './protocol.js';
import { resolveSubscription, scoresMessage, wantsEvent } from './subscription.js';

export interface SourceHealth {
  readonly id: string;
  readonly state: SourceStatus['state'];
  readonly backend: string;
  readonly restarts: number;
  /** Wall time of the last audio chunk, ISO; null before the first. */
  readonly lastAudioAt: string | null;
  /** Stream seconds read so far. */
  readonly streamSeconds: number;
  /** Tagger latency of the most recent patch, ms (the dashboard's health panel). */
  readonly inferenceMs?: number;
  /** The tagger's model name. */
  readonly model?: string;
  /** The most recent failure (kept after recovery, with when it happened), if any. */
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: string };
}

/**
 * An extra HTTP endpoint (e.g. /api/events, /clips/…), served under the same token auth as the
 * WebSocket. Resolving `false` means "not mine" and falls through to 404.
 */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void | boolean> | void | boolean;

/** What the server reads from the running pipeline; all lookups are live (SIGHUP, restarts). */
export interface ServerContext {
  readonly version: string;
  readonly metrics: DaemonMetrics;
  readonly ontology?: Ontology;
  sources(): readonly SourceInfo[];
  models(): readonly ModelInfo[];
  labelsBySource(): ReadonlyMap<string, readonly LabelInfo[]>;
  status(): readonly SourceStatus[];
  health(): readonly SourceHealth[];
  defaultTopK(): number;
  nowMs(): number;
  /** MQTT/webhook state for /healthz; informative only, never makes it 503. */
  integrations?(): unknown;
  /**
   * Extra HTTP routes behind the API token (/api/events, /clips/…): a key ending in '/' serves
   * every path under it; a route resolves false to fall through to 404.
   */
  readonly routes?: ReadonlyMap<string, HttpRoute>;
}

interface Retained {
  readonly seq: number;
  readonly ev: LabelEvent;
  readonly data: string;
}

/**
 * WebSocket protocol (docs/protocol.md) + /healthz + /metrics on one HTTP port.
 * Clients get `hello` on connect and nothing else until they subscribe.
 */
export class ProtocolServer {
  private readonly http: Server;
  private readonly wss: WebSocketServer;
  private readonly clients = new Set<Client>();
  private readonly retained: Retained[] = [];
  /** Each source's newest frame, for `subscribe` with `latest: true`. */
  private readonly lastFrames = new Map<string, ScoreFrame>();
  private seq = 0;
  private nextClientId = 1;
  private sweepTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly budget: QueueBudget;

  private constructor(
    private cfg: ServerConfig,
    private readonly ctx: ServerContext,
  ) {
    this.http = createServer((req, res) => void this.onHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: cfg.maxMessageBytes });
    this.budget = new QueueBudget(ctx.metrics.registry, cfg);
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head));
  }

  static async start(cfg: ServerConfig, ctx: ServerContext): Promise<ProtocolServer> {
    const s = new ProtocolServer(cfg, ctx);
    await new Promise<void>((resolve, reject) => {
      s.http.once('error', (e: NodeJS.ErrnoException) =>
        reject(new EarshotError('CONFIG_INVALID', `cannot listen on ${cfg.host}:${cfg.port}: ${e.code ?? e.message}`, { host: cfg.host, port: cfg.port }, { cause: e })),
      );
      s.http.listen(cfg.port, cfg.host, () => resolve());
    });
    s.startTimers();
    return s;
  }

  get address(): { host: string; port: number } {
    const a = this.http.address() as AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** SIGHUP: token, limits and timers change in place; connected clients stay. */
  setConfig(cfg: ServerConfig): void {
    this.cfg = cfg;
    this.wss.options.maxPayload = cfg.maxMessageBytes;
    this.budget.setLimits(cfg);
    this.startTimers();
  }

  publishScores(frame: ScoreFrame): void {
    this.lastFrames.set(frame.sourceId, frame);
    const byKey = new Map<string, string | undefined>();
    for (const c of this.clients) {
      const sub = c.subscription;
      if (!sub || !sub.kinds.has('scores') || !sub.sources.has(frame.sourceId)) continue;
      let msg = byKey.get(sub.key);
      if (!byKey.has(sub.key)) {
        msg = scoresMessage(frame, sub);
        byKey.set(sub.key, msg);
      }
      if (msg !== undefined) this.deliver(c, msg, true);
    }
    this.enforceBudget();
  }

  publishEvent(ev: LabelEvent): void {
    const seq = ++this.seq;
    const data = eventMessage(ev, seq);
    this.retained.push({ seq, ev, data });
    if (this.retained.length > this.cfg.replayEvents) this.retained.splice(0, this.retained.length - this.cfg.replayEvents);
    for (const c of this.clients) if (c.subscription && wantsEvent(c.subscription, ev.sourceId, ev.labelId)) this.deliver(c, data, false);
    this.enforceBudget();
  }

  /**
   * A `levels` or `spectrogram` message (src/levels/messages.ts) to the clients that asked for
   * that kind and source; serialised lazily, once, and dropped first when a queue is full.
   */
  publishLive(kind: 'levels' | 'spectrogram', sourceId: string, serialise: () => string): void {
    let data: string | undefined;
    for (const c of this.clients) {
      if (!c.subscription?.kinds.has(kind) || !c.subscription.sources.has(sourceId)) continue;
      data ??= serialise();
      this.deliver(c, data, true);
    }
    if (data !== undefined) this.enforceBudget();
  }

  publishStatus(s: SourceStatus): void {
    const data = statusMessage(s, new Date(this.ctx.nowMs()).toISOString());
    for (const c of this.clients) if (c.subscription?.kinds.has('status') && c.subscription.sources.has(s.sourceId)) this.deliver(c, data, true);
    this.enforceBudget();
  }

  clientStats(): { id: number; remote: string; queued: number; dropped: number; sent: number }[] {
    return [...this.clients].map((c) => ({ id: c.id, remote: c.remote, ...c.stats() }));
  }

  /** Closes clients (1001 going away) and the listener; resolves when the port is free. */
  async close(): Promise<void> {
    clearInterval(this.sweepTimer);
    clearInterval(this.heartbeatTimer);
    for (const c of this.clients) c.ws.close(1001, 'server shutting down');
    const closing = new Promise<void>((resolve) => this.http.close(() => resolve()));
    // Clients that don't finish the close handshake promptly are cut off.
    const cut = setTimeout(() => {
      for (const c of this.clients) c.ws.terminate();
      this.http.closeAllConnections();
    }, 500);
    await closing;
    clearTimeout(cut);
    this.wss.close();
  }

  private deliver(c: Client, data: string, droppable: boolean): void {
    const r = c.enqueue(data, droppable);
    if (r === 'dropped') this.ctx.metrics.queueDrops.inc();
    else if (r === 'overflow') this.disconnectStalled(c);
  }

  /** Replies count against the client's queue like anything else; one that does not fit means the client is stalled. */
  private reply(c: Client, data: string): void {
    if (c.enqueue(data, false) === 'overflow') {
      this.budget.repliesDropped.inc();
      this.disconnectStalled(c);
    }
    this.enforceBudget();
  }

  private enforceBudget(): void {
    for (const c of this.budget.victims(this.clients)) {
      this.budget.budgetDisconnects.inc();
      this.cutOff(c);
    }
  }

  private disconnectStalled(c: Client): void {
    this.ctx.metrics.stalledDisconnects.inc();
    this.cutOff(c);
  }

  /** Terminate, not close: a stalled peer would never read a close frame. */
  private cutOff(c: Client): void {
    c.markClosed();
    c.ws.terminate();
    this.clients.delete(c);
    this.ctx.metrics.subscribers.set(this.clients.size);
  }

  private startTimers(): void {
    clearInterval(this.sweepTimer);
    clearInterval(this.heartbeatTimer);
    const stallMs = this.cfg.stalledDisconnectSeconds * 1000;
    this.sweepTimer = setInterval(() => {
      const now = this.ctx.nowMs();
      for (const c of this.clients) if (c.blocked && now - c.lastProgressMs > stallMs) this.disconnectStalled(c);
    }, Math.min(1000, stallMs / 2));
    this.sweepTimer.unref();
    // A client that misses a whole heartbeat period is dead or wedged.
    this.heartbeatTimer = setInterval(() => {
      for (const c of this.clients) {
        if (!c.alive) {
          c.markClosed();
          c.ws.terminate();
          continue;
        }
        c.alive = false;
        c.ws.ping();
      }
    }, this.cfg.heartbeatSeconds * 1000);
    this.heartbeatTimer.unref();
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (!originAllowed(req, this.cfg.allowedOrigins)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 18\r\n\r\norigin not allowed');
      return;
    }
    if (!authorized(req, this.cfg)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nWWW-Authenticate: Bearer\r\nContent-Type: text/plain\r\nContent-Length: 25\r\n\r\nAUTH_FAILED: unauthorized');
      return;
    }
    if (!this.budget.admit(this.clients.size)) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 17\r\n\r\ntoo many clients\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.onConnection(ws, req));
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const c = new Client(this.nextClientId++, ws, `${req.socket.remoteAddress}:${req.socket.remotePort}`, new SubscriberQueue(this.cfg.clientQueueMessages), this.ctx.nowMs, () =>
      this.ctx.metrics.messagesSent.inc(),
    );
    this.clients.add(c);
    this.ctx.metrics.subscribers.set(this.clients.size);
    ws.on('pong', () => (c.alive = true));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      c.markClosed();
      this.clients.delete(c);
      this.ctx.metrics.subscribers.set(this.clients.size);
    });
    ws.on('message', (data, isBinary) => this.onMessage(c, data, isBinary));
    this.reply(c, helloMessage(this.ctx.version, this.ctx.sources(), this.ctx.models(), this.ctx.status()));
  }

  private onMessage(c: Client, data: RawData, isBinary: boolean): void {
    c.alive = true;
    try {
      if (isBinary) throw new EarshotError('PROTOCOL_ERROR', 'binary frames are not part of the protocol; send JSON text');
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      const msg = parseClientMessage(text);
      switch (msg.type) {
        case 'ping':
          this.reply(c, JSON.stringify({ type: 'pong', ...(msg.id !== undefined ? { id: msg.id } : {}), at: new Date(this.ctx.nowMs()).toISOString() }));
          break;
        case 'stats':
          this.reply(c, JSON.stringify({ type: 'stats', ...c.stats() }));
          break;
        case 'labels':
          this.reply(c, labelsMessage(this.ctx.models()));
          break;
        case 'unsubscribe':
          c.subscription = undefined;
          this.reply(c, JSON.stringify({ type: 'unsubscribed' }));
          break;
        case 'subscribe': {
          const labels = this.ctx.labelsBySource();
          const sub = resolveSubscription(msg, labels, this.ctx.ontology, this.ctx.defaultTopK());
          // Resolve `since` before replacing anything: a bad one must keep the old subscription.
          const from = msg.since !== undefined ? this.replayStart(msg.since) : -1;
          c.subscription = sub;
          const perSource = [...sub.sources].map(([id, s]) => ({ source: id, labels: s.ids ? s.ids.size : labels.get(id)!.length }));
          this.reply(c, JSON.stringify({ type: 'subscribed', sources: perSource, kinds: [...sub.kinds], minScore: sub.minScore, topK: sub.topK }));
          if (msg.latest && sub.kinds.has('scores')) {
            for (const id of sub.sources.keys()) {
              const f = this.lastFrames.get(id);
              const m = f ? scoresMessage(f, sub) : undefined;
              if (m !== undefined) this.deliver(c, m, true);
            }
          }
          if (from >= 0 && sub.kinds.has('events')) {
            for (const r of this.retained.slice(from)) if (wantsEvent(sub, r.ev.sourceId, r.ev.labelId)) this.deliver(c, r.data, false);
            this.enforceBudget();
          }
          break;
        }
      }
    } catch (e) {
      this.reply(c, errorMessage(toEarshotError(e, 'PROTOCOL_ERROR')));
    }
  }

  /** Index of the first retained event after `since` (a seq, or the first message bearing that event id); -1 = none. */
  private replayStart(since: string | number): number {
    if (typeof since === 'number') return this.retained.findIndex((r) => r.seq > since);
    const at = this.retained.findIndex((r) => r.ev.id === since);
    if (at < 0) throw new EarshotError('PROTOCOL_ERROR', `since: event id "${since}" is not among the ${this.retained.length} retained events`);
    return at + 1;
  }

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const access = httpAccess(req, path, this.cfg);
    if (access === 'denied') return sendAuthFailed(res, path);
    const route = this.routeFor(path);
    try {
      if (path === '/healthz') {
        const sources = this.ctx.health();
        const ok = sources.every((s) => s.state === 'up' || s.state === 'silent' || s.state === 'quiet' || s.state === 'ended');
        const integrations = this.ctx.integrations?.();
        const body = JSON.stringify(
          access === 'status'
            ? { status: ok ? 'ok' : 'degraded' }
            : { status: ok ? 'ok' : 'degraded', sources, clients: this.clientStats(), ...(integrations ? { integrations } : {}) },
        );
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(body);
      } else if (path === '/api/labels') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(labelsMessage(this.ctx.models()));
      } else if (path === '/metrics') {
        const body = await this.ctx.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.ctx.metrics.registry.contentType }).end(body);
      } else if (route) {
        if ((await route(req, res, url)) === false) this.notFound(res);
      } else {
        this.notFound(res);
      }
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: toEarshotError(e).message }));
    }
  }

  /** An exact route, else the longest '/'-terminated prefix route that covers the path. */
  private routeFor(path: string): HttpRoute | undefined {
    const routes = this.ctx.routes;
    if (!routes) return undefined;
    const exact = routes.get(path);
    if (exact) return exact;
    let best: string | undefined;
    for (const k of routes.keys()) if (k.endsWith('/') && path.startsWith(k) && (!best || k.length > best.length)) best = k;
    return best === undefined ? undefined : routes.get(best);
  }

  private notFound(res: ServerResponse): void {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found', paths: ['/healthz', '/metrics', '/api/labels', ...(this.ctx.routes?.keys() ?? [])] }));
  }
}
