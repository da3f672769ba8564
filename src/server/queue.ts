import type { SubscriberStats } from './contracts.js';

export interface QueuedMessage {
  readonly data: string;
  /** scores/status may be dropped under pressure; events never are. */
  readonly droppable: boolean;
}

export type EnqueueResult = 'queued' | 'dropped' | 'overflow';

/**
 * Bounded per-subscriber queue. When full: the oldest droppable message makes room
 * (counted as dropped); if none is droppable, a droppable newcomer is dropped, and
 * an event newcomer returns 'overflow' so the caller disconnects the client as
 * stalled rather than lose an event silently.
 */
export class SubscriberQueue {
  private items: QueuedMessage[] = [];
  private droppedCount = 0;
  private sentCount = 0;
  private queuedBytes = 0;

  constructor(readonly capacity: number) {}

  push(m: QueuedMessage): EnqueueResult {
    if (this.items.length < this.capacity) {
      this.items.push(m);
      this.queuedBytes += m.data.length;
      return 'queued';
    }
    const victim = this.items.findIndex((x) => x.droppable);
    if (victim >= 0) {
      this.queuedBytes += m.data.length - this.items[victim]!.data.length;
      this.items.splice(victim, 1);
      this.items.push(m);
      this.droppedCount++;
      return 'dropped';
    }
    if (m.droppable) {
      this.droppedCount++;
      return 'dropped';
    }
    return 'overflow';
  }

  shift(): QueuedMessage | undefined {
    const m = this.items.shift();
    if (m) {
      this.sentCount++;
      this.queuedBytes -= m.data.length;
    }
    return m;
  }

  /** Releases everything queued (a client cut off); what it held no longer counts. */
  clear(): void {
    this.items = [];
    this.queuedBytes = 0;
  }

  /** String lengths queued: bytes for the one-byte (ASCII) strings JSON messages are; shared broadcast strings count once per queue. */
  get bytes(): number {
    return this.queuedBytes;
  }

  get length(): number {
    return this.items.length;
  }

  stats(): SubscriberStats {
    return { queued: this.items.length, dropped: this.droppedCount, sent: this.sentCount };
  }
}
