import type Database from 'better-sqlite3';

import type { OutboxItem } from './contracts.js';

/** OutboxStore on the history database (table from migration 2); synchronous, called inside the store's guard. */
export function outboxPut(db: Database.Database, items: readonly OutboxItem[], nowMs: number): void {
  const put = db.prepare('INSERT OR IGNORE INTO outbox(channel, key, payload, created_ms) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (const i of items) put.run(i.channel, i.key, i.payload, nowMs);
  })();
}

export function outboxAck(db: Database.Database, channel: string, keys: readonly string[]): void {
  const del = db.prepare('DELETE FROM outbox WHERE channel = ? AND key = ?');
  db.transaction(() => {
    for (const k of keys) del.run(channel, k);
  })();
}

export function outboxPending(db: Database.Database, channel: string, limit: number): OutboxItem[] {
  return db.prepare('SELECT channel, key, payload FROM outbox WHERE channel = ? ORDER BY seq LIMIT ?').all(channel, limit) as OutboxItem[];
}
