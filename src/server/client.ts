import type { WebSocket } from 'ws';

import type { SubscriberStats } from './contracts.js';
import { type EnqueueResult, SubscriberQueue } from './queue.js';
import type { Subscription } from './subscription.js';

/** Above this many bytes buffered in ws/socket, we stop writing and let the queue absorb. */
export const SEND_HIGH_WATER_BYTES = 256 * 1024;

/**
 * One connected client: its subscription and bounded queue. Messages go to the
 * socket only while ws.bufferedAmount is below the high-water mark, so a slow
 * reader backs up into its own queue (where scores/status get dropped) instead of
 * into unbounded socket buffers. Each completed write re-pumps the queue.
 */
export class Client {
  subscription: Subscription | undefined;
  /** Wall ms of the last write completion (or connect): stall detection. */
  lastProgressMs: number;
  alive = true;
  private closed = false;

  constructor(
    readonly id: number,
    readonly ws: WebSocket,
    readonly remote: string,
    private readonly queue: SubscriberQueue,
    private readonly nowMs: () => number,
    private readonly onSent: () => void,
  ) {
    this.lastProgressMs = nowMs();
  }

  enqueue(data: string, droppable: boolean): EnqueueResult {
    if (this.closed) return 'queued';
    const r = this.queue.push({ data, droppable });
    this.pump();
    return r;
  }

  /** Blocked = work waiting that the socket won't take. */
  get blocked(): boolean {
    return this.queue.length > 0 && this.ws.bufferedAmount >= SEND_HIGH_WATER_BYTES;
  }

  stats(): SubscriberStats {
    return this.queue.stats();
  }

  /** Bytes this client holds in the daemon: its queue plus what ws has framed but the socket has not taken. */
  get backlogBytes(): number {
    return this.queue.bytes + this.ws.bufferedAmount;
  }

  markClosed(): void {
    this.closed = true;
    this.queue.clear();
  }

  /**
   * Writes while the socket takes data. Only a write that brings the buffer near
   * the high-water mark carries a completion callback (callbacks cost per message
   * on 1000-client fan-outs); its completion means the buffer drained past it, so it
   * records progress and re-pumps.
   */
  pump(): void {
    while (!this.closed && this.queue.length > 0 && this.ws.bufferedAmount < SEND_HIGH_WATER_BYTES && this.ws.readyState === this.ws.OPEN) {
      const m = this.queue.shift()!;
      if (this.ws.bufferedAmount + m.data.length * 3 >= SEND_HIGH_WATER_BYTES / 2) {
        this.ws.send(m.data, (err) => {
          if (err) return;
          this.lastProgressMs = this.nowMs();
          this.pump();
        });
      } else this.ws.send(m.data);
      this.onSent();
    }
    if (this.queue.length === 0) this.lastProgressMs = Math.max(this.lastProgressMs, this.nowMs());
  }
}
