import type pg from 'pg';

import { EarshotError } from '../errors.js';

/**
 * PostgreSQL history schema. Versioned like sqlite-schema.ts: each entry runs once, in
 * order, in a transaction, under an advisory lock (several hubs may start together).
 * Never edit a shipped entry; append one.
 *
 * segments, segment_labels and events are partitioned by RANGE(part_ms): one
 * partition per UTC day for live rows (part_ms = the row's wall clock), and one
 * `_archive` partition (part_ms = -1) for indexed files, which retention never touches.
 * Retention then drops whole day partitions instead of deleting rows (no vacuum debt).
 * Unique keys must contain the partition key, so an event is unique by (id, part_ms):
 * part_ms derives from the event itself (its wall start), so every copy of one event
 * (start, end, a redelivery) lands on the same row.
 */
const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE streams(id serial PRIMARY KEY, kind text NOT NULL, name text NOT NULL, site text NOT NULL DEFAULT '', UNIQUE(kind, name, site));
CREATE TABLE labels(id serial PRIMARY KEY, label_id text NOT NULL UNIQUE, name text NOT NULL);
CREATE TABLE files(
  stream_id int PRIMARY KEY REFERENCES streams(id), size_bytes bigint NOT NULL, mtime_ms float8 NOT NULL,
  sha256 text NOT NULL, duration_seconds float8 NOT NULL, model text NOT NULL, indexed_ms bigint NOT NULL);
CREATE SEQUENCE segments_id_seq;
CREATE TABLE segments(
  id bigint NOT NULL DEFAULT nextval('segments_id_seq'), part_ms bigint NOT NULL, stream_id int NOT NULL,
  start_s float8 NOT NULL, end_s float8 NOT NULL, wall_ms bigint, created_ms bigint NOT NULL, model text NOT NULL,
  emb_scale real, emb_norm real, emb bytea, PRIMARY KEY (id, part_ms)) PARTITION BY RANGE (part_ms);
-- A live segment is unique by where and when it was heard: a redelivered copy is ignored.
CREATE UNIQUE INDEX segments_live_key ON segments(stream_id, wall_ms, start_s, part_ms);
CREATE INDEX segments_stream ON segments(stream_id, start_s);
CREATE TABLE segment_labels(label int NOT NULL, score real NOT NULL, segment_id bigint NOT NULL, part_ms bigint NOT NULL)
  PARTITION BY RANGE (part_ms);
-- Keyword search walks one label's scores from the top.
CREATE INDEX segment_labels_top ON segment_labels(label, score DESC);
CREATE INDEX segment_labels_segment ON segment_labels(segment_id);
CREATE SEQUENCE events_seq;
CREATE TABLE events(
  seq bigint NOT NULL DEFAULT nextval('events_seq'), id text NOT NULL, part_ms bigint NOT NULL, stream_id int NOT NULL,
  label int NOT NULL, start_s float8 NOT NULL, end_s float8, peak float8 NOT NULL, mean float8 NOT NULL, model text NOT NULL,
  wall_start_ms bigint, created_ms bigint NOT NULL, PRIMARY KEY (id, part_ms)) PARTITION BY RANGE (part_ms);
CREATE INDEX events_seq_idx ON events(seq);
CREATE INDEX events_id ON events(id);
CREATE INDEX events_label ON events(label, seq);
CREATE INDEX events_stream ON events(stream_id, seq);
CREATE TABLE segments_archive PARTITION OF segments FOR VALUES FROM (MINVALUE) TO (0);
CREATE TABLE segment_labels_archive PARTITION OF segment_labels FOR VALUES FROM (MINVALUE) TO (0);
CREATE TABLE events_archive PARTITION OF events FOR VALUES FROM (MINVALUE) TO (0);
CREATE TABLE clips(
  id text PRIMARY KEY, event_id text NOT NULL, path text NOT NULL, state text NOT NULL,
  start_s float8 NOT NULL, end_s float8, rate int NOT NULL, bytes bigint NOT NULL, error text, created_ms bigint NOT NULL);
CREATE INDEX clips_event ON clips(event_id);
CREATE TABLE outbox(seq bigserial PRIMARY KEY, channel text NOT NULL, key text NOT NULL, payload text NOT NULL, created_ms bigint NOT NULL,
  UNIQUE(channel, key));
`,
  },
];

export const PG_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
export const PARTITIONED = ['segments', 'segment_labels', 'events'] as const;
export const DAY_MS = 86_400_000;

/** Partition name of a UTC day (days since the epoch), e.g. segments_d20261202. */
export function partitionName(table: string, day: number): string {
  return `${table}_d${new Date(day * DAY_MS).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

/** The day a partition name stands for, or undefined for _archive and foreign tables. */
export function partitionDay(name: string): number | undefined {
  const m = /_d(\d{4})(\d{2})(\d{2})$/.exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) / DAY_MS : undefined;
}

const LOCK = 0x6561_7273; // 'ears': serialises migrations between processes

export async function migratePostgres(pool: pg.Pool, where: string): Promise<void> {
  const c = await pool.connect();
  try {
    await c.query('SELECT pg_advisory_lock($1)', [LOCK]);
    await c.query('CREATE TABLE IF NOT EXISTS schema_migrations(version int PRIMARY KEY, applied_ms bigint NOT NULL)');
    const current = Number((await c.query('SELECT coalesce(max(version), 0) AS v FROM schema_migrations')).rows[0].v);
    if (current > PG_SCHEMA_VERSION) {
      throw new EarshotError('HISTORY_FAILED', `${where} has history schema version ${current}, this earshot knows up to ${PG_SCHEMA_VERSION}: upgrade earshot`, { version: current });
    }
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      await c.query('BEGIN');
      try {
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations(version, applied_ms) VALUES ($1, $2)', [m.version, Date.now()]);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK');
        throw e;
      }
    }
  } finally {
    await c.query('SELECT pg_advisory_unlock($1)', [LOCK]).catch(() => undefined);
    c.release();
  }
}

/** Creates the day partitions of `days` that do not exist yet (idempotent across processes). */
export async function ensurePartitions(pool: pg.Pool, days: Iterable<number>): Promise<void> {
  for (const day of days) {
    for (const t of PARTITIONED) {
      try {
        await pool.query(`CREATE TABLE IF NOT EXISTS ${partitionName(t, day)} PARTITION OF ${t} FOR VALUES FROM (${day * DAY_MS}) TO (${(day + 1) * DAY_MS})`);
      } catch (e) {
        // Another process created it between IF NOT EXISTS and CREATE: fine.
        const code = (e as { code?: string }).code;
        if (code !== '42P07' && code !== '23505') throw e;
      }
    }
  }
}
