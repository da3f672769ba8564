import type Database from 'better-sqlite3';

import { EarshotError } from '../errors.js';

/**
 * Versioned migrations: each entry runs once, in order, inside a transaction, and
 * records its version in schema_migrations. Never edit a shipped entry; append one.
 */
const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE streams(id INTEGER PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, UNIQUE(kind, name));
CREATE TABLE labels(id INTEGER PRIMARY KEY, label_id TEXT NOT NULL UNIQUE, name TEXT NOT NULL);
CREATE TABLE files(
  stream_id INTEGER PRIMARY KEY REFERENCES streams(id), size_bytes INTEGER NOT NULL, mtime_ms REAL NOT NULL,
  sha256 TEXT NOT NULL, duration_seconds REAL NOT NULL, model TEXT NOT NULL, indexed_ms INTEGER NOT NULL);
CREATE TABLE segments(
  id INTEGER PRIMARY KEY, stream_id INTEGER NOT NULL, start_s REAL NOT NULL, end_s REAL NOT NULL,
  wall_ms INTEGER, created_ms INTEGER NOT NULL, model TEXT NOT NULL,
  emb_scale REAL, emb_norm REAL, emb BLOB);
CREATE INDEX segments_stream ON segments(stream_id, start_s);
CREATE INDEX segments_created ON segments(created_ms);
-- Keyword search walks one label's scores from the top: (label, score) leads the key.
CREATE TABLE segment_labels(label INTEGER NOT NULL, score REAL NOT NULL, segment_id INTEGER NOT NULL,
  PRIMARY KEY(label, score, segment_id)) WITHOUT ROWID;
CREATE INDEX segment_labels_segment ON segment_labels(segment_id);
CREATE TABLE events(
  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, stream_id INTEGER NOT NULL, label INTEGER NOT NULL,
  start_s REAL NOT NULL, end_s REAL, peak REAL NOT NULL, mean REAL NOT NULL, model TEXT NOT NULL,
  wall_start_ms INTEGER, created_ms INTEGER NOT NULL);
CREATE INDEX events_label ON events(label, seq);
CREATE INDEX events_stream ON events(stream_id, seq);
CREATE INDEX events_created ON events(created_ms);
`,
  },
  {
    // Event clips (src/clips). No foreign key to events: history retention may drop an
    // event row while its clip file still lives under the clip sweeper's own policy.
    version: 2,
    sql: `
CREATE TABLE clips(
  id TEXT PRIMARY KEY, event_id TEXT NOT NULL, path TEXT NOT NULL, state TEXT NOT NULL,
  start_s REAL NOT NULL, end_s REAL, rate INTEGER NOT NULL, bytes INTEGER NOT NULL, error TEXT,
  created_ms INTEGER NOT NULL);
CREATE INDEX clips_event ON clips(event_id);
`,
  },
  {
    // Integrations' persistent outbox (webhooks): messages not yet acknowledged by their receiver, per channel.
    version: 3,
    sql: `
CREATE TABLE outbox(seq INTEGER PRIMARY KEY, channel TEXT NOT NULL, key TEXT NOT NULL, payload TEXT NOT NULL, created_ms INTEGER NOT NULL,
  UNIQUE(channel, key));
`,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export function migrate(db: Database.Database, path: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations(version INTEGER PRIMARY KEY, applied_ms INTEGER NOT NULL)');
  const current = (db.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0;
  if (current > SCHEMA_VERSION) {
    throw new EarshotError('HISTORY_FAILED', `${path} has history schema version ${current}, this earshot knows up to ${SCHEMA_VERSION}: upgrade earshot`, { path, version: current });
  }
  const add = db.prepare('INSERT INTO schema_migrations(version, applied_ms) VALUES (?, ?)');
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      add.run(m.version, Date.now());
    })();
  }
}
