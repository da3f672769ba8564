import { WebSocket } from 'ws';

export type Msg = { type: string } & Record<string, unknown>;

/** A real ws client that records every message and lets tests await one matching a predicate. */
export class TestClient {
  readonly messages: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString()) as Msg;
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        clearTimeout(w.timer);
        w.resolve(m);
        return false;
      });
    });
    ws.on('close', () => {
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.reject(new Error('socket closed while waiting'));
      }
      this.waiters = [];
    });
  }

  static connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { headers });
      const c = new TestClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  send(m: unknown): void {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  /** Resolves with the first message (already received or future) matching `pred`; the timeout only guards against hangs. */
  waitFor(pred: (m: Msg) => boolean, timeoutMs = 20_000, fromIndex = 0): Promise<Msg> {
    const seen = this.messages.slice(fromIndex).find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; got types ${[...new Set(this.messages.map((x) => x.type))].join(',')}`)), timeoutMs);
      this.waiters.push({ pred, resolve, reject, timer });
    });
  }

  /** Sends and waits for the next message of `replyType` after this point. */
  async request(m: unknown, replyType: string): Promise<Msg> {
    const from = this.messages.length;
    const p = this.waitFor((x) => x.type === replyType || x.type === 'error', 20_000, from);
    this.send(m);
    return p;
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.terminate();
    });
  }
}

export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.text() };
}
