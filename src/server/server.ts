import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

import { type RawData, type WebSocket, WebSocketServer } from 'ws';

import type { ServerConfig } from '../config/sections/server.js';
import { EarshotError, toEarshotError } from '../errors.js';
import type { LabelEvent, ScoreFrame } from '../events/contracts.js';
import { authFailed, authorized, httpAccess, requestUrl, sendAuthFailed } from './auth.js';
import { QueueBudget } from './budget.js';
import { Client } from './client.js';
import type { DaemonMetrics } from './metrics.js';
import type { Ontology } from './ontology.js';
import { originAllowed } from './origin.js';
import {
  errorMessage,
  eventMessage,
  healthBody,
  helloMessage,
  labelsMessage,
  modelsOf,
  parseClientMessage,
  pongMessage,
  scoresMessage,
  type SourceStatus,
  type SourceView,
  statsMessage,
  statusMessage,
  subscribedMessage,
  unsubscribedMessage,
} from './protocol.js';
import { SubscriberQueue } from './queue.js';
import { resolveSubscription, wantsEvent } from './subscription.js';

export type { SourceView } from './protocol.js';

/**
 * An extra HTTP endpoint (e.g. /api/events, /clips/…), served under the same token auth as the
 * WebSocket. Resolving `false` means "not mine" and falls through to 404.
 */
export type HttpRoute = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void | boolean> | void | boolean;

/** What the server reads from the running daemon. */
export interface ServerContext {
  readonly version: string;
  readonly metrics: DaemonMetrics;
  readonly ontology?: Ontology;
  /** A snapshot of every source, taken on each use (so SIGHUP, restarts and state changes show). */
  sources(): readonly SourceView[];
  /** `topK` of a subscription that names none (config events.topK; setConfig updates it). */
  readonly defaultTopK: number;
  /** Wall clock, ms (tests may pass a virtual one). */
  nowMs(): number;
  /** MQTT/webhook state for /healthz; informative only, never makes it 503. */
  integrations?(): unknown;
  /**
   * Extra HTTP routes behind the API token (/api/events, /clips/…): a key ending in '/' serves
   * every path under it; a route resolves false to fall through to 404.
   */
  readonly routes?: ReadonlyMap<string, HttpRoute>;
  /** The `feedback` message (POST /api/feedback's function); absent = no history/clips, the message is an error. */
  feedback?(body: { eventId: string; correct: boolean; label?: string }): Promise<object>;
}

/** Why a client is cut off; `stalled` and `over-budget` are counted in /metrics. */
export type DropReason = 'stalled' | 'over-budget' | 'no-heartbeat';

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
  private defaultTopK: number;

  private constructor(
    private cfg: ServerConfig,
    private readonly ctx: ServerContext,
  ) {
    this.http = createServer((req, res) => {
      // onHttp answers its own errors; this catch is the last line so no request can reject into the process
      this.onHttp(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end();
      });
    });
    this.wss = new WebSocketServer({ noServer: true, maxPayload: cfg.maxMessageBytes });
    this.budget = new QueueBudget(ctx.metrics.registry, cfg);
    this.defaultTopK = ctx.defaultTopK;
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

  /** SIGHUP: token, limits, timers and the default topK change in place; connected clients stay. */
  setConfig(cfg: ServerConfig, defaultTopK = this.defaultTopK): void {
    this.cfg = cfg;
    this.defaultTopK = defaultTopK;
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
    else if (r === 'overflow') this.drop(c, 'stalled');
  }

  /** Replies count against the client's queue like anything else; one that does not fit means the client is stalled. */
  private reply(c: Client, data: string): void {
    if (c.enqueue(data, false) === 'overflow') {
      this.budget.repliesDropped.inc();
      this.drop(c, 'stalled');
    }
    this.enforceBudget();
  }

  private enforceBudget(): void {
    for (const c of this.budget.victims(this.clients)) this.drop(c, 'over-budget');
  }

  /** The one way a client is cut off: counted, then terminated (a stalled peer would never read a close frame). */
  private drop(c: Client, reason: DropReason): void {
    if (reason === 'stalled') this.ctx.metrics.stalledDisconnects.inc();
    else if (reason === 'over-budget') this.budget.budgetDisconnects.inc();
    c.markClosed();
    c.ws.terminate();
    this.clients.delete(c);
    this.ctx.metrics.subscribers.set(this.clients.size);
  }

  private startTimers(): void {
    clearInterval(this.sweepTimer);
    clearInterval(this.heartbeatTimer);
    const stallMs = this.cfg.stalledDisconnectSeconds * 1000;
    this.sweepTimer = setInterval(
      () => {
        const now = this.ctx.nowMs();
        for (const c of this.clients) if (c.blocked && now - c.lastProgressMs > stallMs) this.drop(c, 'stalled');
      },
      Math.min(1000, stallMs / 2),
    );
    this.sweepTimer.unref();
    // A client that misses a whole heartbeat period is dead or wedged.
    this.heartbeatTimer = setInterval(() => {
      for (const c of this.clients) {
        if (!c.alive) {
          this.drop(c, 'no-heartbeat');
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
    if (!originAllowed(req, this.cfg.allowedOrigins)) return refuseUpgrade(socket, '403 Forbidden', 'origin not allowed');
    if (!authorized(req, this.cfg)) {
      const e = authFailed('the WebSocket');
      return refuseUpgrade(socket, '401 Unauthorized', `${e.code}: ${e.message}`, 'WWW-Authenticate: Bearer\r\n');
    }
    if (!this.budget.admit(this.clients.size)) return refuseUpgrade(socket, '503 Service Unavailable', 'too many clients\n');
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
    this.reply(c, helloMessage(this.ctx.version, this.ctx.sources()));
  }

  private onMessage(c: Client, data: RawData, isBinary: boolean): void {
    c.alive = true;
    try {
      if (isBinary) throw new EarshotError('PROTOCOL_ERROR', 'binary frames are not part of the protocol; send JSON text');
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      const msg = parseClientMessage(text);
      switch (msg.type) {
        case 'ping':
          this.reply(c, pongMessage(msg.id, new Date(this.ctx.nowMs()).toISOString()));
          break;
        case 'stats':
          this.reply(c, statsMessage(c.stats()));
          break;
        case 'labels':
          this.reply(c, labelsMessage(modelsOf(this.ctx.sources())));
          break;
        case 'unsubscribe':
          c.subscription = undefined;
          this.reply(c, unsubscribedMessage());
          break;
        case 'feedback': {
          const { type: _t, id, ...body } = msg;
          if (!this.ctx.feedback) throw new EarshotError('INPUT_INVALID', 'feedback needs history and clips on the server');
          // Disk work: answer when it is done; other messages keep flowing meanwhile.
          this.ctx.feedback(body).then(
            (r) => this.clients.has(c) && this.reply(c, JSON.stringify({ type: 'feedback', ...(id !== undefined ? { id } : {}), ...r })),
            (e: unknown) => this.clients.has(c) && this.reply(c, errorMessage(toEarshotError(e), id)),
          );
          break;
        }
        case 'subscribe': {
          const labels = new Map(this.ctx.sources().map((s) => [s.id, s.model.labels]));
          const sub = resolveSubscription(msg, labels, this.ctx.ontology, this.defaultTopK);
          // Resolve `since` before replacing anything: a bad one must keep the old subscription.
          const from = msg.since !== undefined ? this.replayStart(msg.since) : -1;
          c.subscription = sub;
          this.reply(c, subscribedMessage(sub, labels));
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
    const url = requestUrl(req);
    if (!url) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `bad request target ${JSON.stringify((req.url ?? '').slice(0, 80))}` }));
      return;
    }
    const path = url.pathname;
    const access = httpAccess(req, path, this.cfg);
    if (access === 'denied') return sendAuthFailed(res, path);
    const route = this.routeFor(path);
    try {
      if (path === '/healthz') {
        const h = healthBody(this.ctx.sources(), access === 'status' ? undefined : { clients: this.clientStats(), integrations: this.ctx.integrations?.() });
        res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(h.body);
      } else if (path === '/api/labels') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(labelsMessage(modelsOf(this.ctx.sources())));
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

/** Answers a refused WebSocket upgrade with a plain HTTP status and closes the socket. */
function refuseUpgrade(socket: Duplex, status: string, body: string, headers = ''): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n${headers}Content-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}
