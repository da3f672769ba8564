import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';
import type { ServerConfig } from '../config/sections/server.js';
import type { LabelInfo } from '../classify/contracts.js';
import type { LabelEvent, ScoreFrame } from '../events/contracts.js';
import { EarshotError, toEarshotError } from '../errors.js';
import { Client } from './client.js';
import { QueueBudget } from './budget.js';
import { SubscriberQueue } from './queue.js';
import type { DaemonMetrics } from './metrics.js';
import type { Ontology } from './ontology.js';
import { errorMessage, eventMessage, helloMessage, parseClientMessage, statusMessage, type ModelInfo, type SourceInfo, type SourceStatus } from './protocol.js';
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
}

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
  /**
   * Extra HTTP routes behind the API token (e.g. /clips/*): resolves true when it
   * answered the request, false to fall through to 404.
   */
  readonly routes?: (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;
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

  private authorized(req: IncomingMessage): boolean {
    const token = this.cfg.token;
    if (!token) return true;
    const header = req.headers.authorization;
    const fromHeader = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    const fromQuery = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? undefined;
    const given = fromHeader ?? fromQuery;
    if (given === undefined) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (!this.authorized(req)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nunauthorized\n');
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
        case 'unsubscribe':
          c.subscription = undefined;
          this.reply(c, JSON.stringify({ type: 'unsubscribed' }));
          break;
        case 'subscribe': {
          const labels = this.ctx.labelsBySource();
          const sub = resolveSubscription(msg, labels, this.ctx.ontology, this.ctx.defaultTopK());
          c.subscription = sub;
          const perSource = [...sub.sources].map(([id, s]) => ({ source: id, labels: s.ids ? s.ids.size : labels.get(id)!.length }));
          this.reply(c, JSON.stringify({ type: 'subscribed', sources: perSource, kinds: [...sub.kinds], minScore: sub.minScore, topK: sub.topK }));
          if (msg.since !== undefined && sub.kinds.has('events')) this.replay(c, msg.since);
          break;
        }
      }
    } catch (e) {
      this.reply(c, errorMessage(toEarshotError(e, 'PROTOCOL_ERROR')));
    }
  }

  /** Retained events after `since` (a seq, or the first message bearing that event id). */
  private replay(c: Client, since: string | number): void {
    let from: number;
    if (typeof since === 'number') from = this.retained.findIndex((r) => r.seq > since);
    else {
      const at = this.retained.findIndex((r) => r.ev.id === since);
      if (at < 0) throw new EarshotError('PROTOCOL_ERROR', `since: event id "${since}" is not among the ${this.retained.length} retained events`);
      from = at + 1;
    }
    if (from < 0) return;
    for (const r of this.retained.slice(from)) if (wantsEvent(c.subscription!, r.ev.sourceId, r.ev.labelId)) this.deliver(c, r.data, false);
    this.enforceBudget();
  }

  private async onHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    try {
      if (path === '/healthz') {
        const sources = this.ctx.health();
        const ok = sources.every((s) => s.state === 'up' || s.state === 'silent' || s.state === 'ended');
        const body = JSON.stringify({ status: ok ? 'ok' : 'degraded', sources, clients: this.clientStats() });
        res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' }).end(body);
      } else if (path === '/metrics') {
        const body = await this.ctx.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.ctx.metrics.registry.contentType }).end(body);
      } else if (this.ctx.routes && !this.authorized(req)) {
        res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end(JSON.stringify({ error: 'unauthorized' }));
      } else if (!(await this.ctx.routes?.(req, res, path))) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'not found', paths: ['/healthz', '/metrics'] }));
      }
    } catch (e) {
      res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: toEarshotError(e).message }));
    }
  }
}
