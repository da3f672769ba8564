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

  constructor(readonly capacity: number) {}

  push(m: QueuedMessage): EnqueueResult {
    if (this.items.length < this.capacity) {
      this.items.push(m);
      return 'queued';
    }
    const victim = this.items.findIndex((x) => x.droppable);
    if (victim >= 0) {
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
    if (m) this.sentCount++;
    return m;
  }

  get length(): number {
    return this.items.length;
  }

  stats(): SubscriberStats {
    return { queued: this.items.length, dropped: this.droppedCount, sent: this.sentCount };
  }
}
