import { Counter, Gauge, type Registry } from 'prom-client';

import type { Client } from './client.js';

export interface BudgetLimits {
  /** Bytes all clients together may hold queued (our queues + ws's framed, unsent bytes). */
  readonly queueBudgetBytes: number;
  /** Connections accepted at once; the next upgrade gets 503. */
  readonly maxClients: number;
}

function counter(registry: Registry, name: string, help: string): Counter<never> {
  return (registry.getSingleMetric(name) as Counter<never> | undefined) ?? new Counter({ name, help, registers: [registry] });
}

/**
 * The server-wide memory bound. Per-client queues bound messages, not bytes, and a
 * hundred clients that never read could each hold their full queue of large scores
 * messages; this caps the sum. When a publish or a reply takes the total over the
 * budget, the clients holding the most are cut off first (a healthy reader holds
 * ~nothing, so the slowest go; the oldest connection breaks ties) until the rest fit.
 */
export class QueueBudget {
  private readonly queued: Gauge<never>;
  readonly budgetDisconnects: Counter<never>;
  readonly repliesDropped: Counter<never>;
  readonly refused: Counter<never>;

  constructor(
    registry: Registry,
    private limits: BudgetLimits,
  ) {
    this.queued =
      (registry.getSingleMetric('earshot_client_queued_bytes') as Gauge<never> | undefined) ??
      new Gauge({ name: 'earshot_client_queued_bytes', help: 'Bytes held for WebSocket clients (queues + unsent socket buffers), as of the last publish', registers: [registry] });
    this.budgetDisconnects = counter(registry, 'earshot_budget_disconnects_total', 'Clients cut off because all clients together held more than server.queueBudgetBytes');
    this.repliesDropped = counter(registry, 'earshot_replies_dropped_total', 'Replies (pong, stats, subscribed, error) that did not fit a full client queue');
    this.refused = counter(registry, 'earshot_connections_refused_total', 'WebSocket upgrades refused with 503 at server.maxClients');
  }

  setLimits(limits: BudgetLimits): void {
    this.limits = limits;
  }

  /** Whether one more connection fits; counts the refusal when not. */
  admit(connected: number): boolean {
    if (connected < this.limits.maxClients) return true;
    this.refused.inc();
    return false;
  }

  /**
   * Clients to cut off so the rest fit the budget, largest backlog first. O(n) per
   * call plus a sort only when over budget; callers run it once per publish.
   */
  victims(clients: Iterable<Client>): Client[] {
    let total = 0;
    const all: { c: Client; bytes: number }[] = [];
    for (const c of clients) {
      const bytes = c.backlogBytes;
      total += bytes;
      all.push({ c, bytes });
    }
    const out: Client[] = [];
    if (total > this.limits.queueBudgetBytes) {
      all.sort((a, b) => b.bytes - a.bytes || a.c.id - b.c.id);
      for (const { c, bytes } of all) {
        if (total <= this.limits.queueBudgetBytes) break;
        out.push(c);
        total -= bytes;
      }
    }
    this.queued.set(total);
    return out;
  }
}
