import type pg from 'pg';

import type { RetentionPolicy, RetentionResult } from './contracts.js';
import { DAY_MS, partitionDay, PARTITIONED, partitionName } from './postgres-schema.js';

async function liveDays(pool: pg.Pool): Promise<number[]> {
  const rows = (await pool.query(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'segments'::regclass`)).rows;
  return rows
    .flatMap((r) => {
      const d = partitionDay(r.relname as string);
      return d === undefined ? [] : [d];
    })
    .sort((a, b) => a - b);
}

async function count(pool: pg.Pool, table: string): Promise<number> {
  return Number((await pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
}

async function dropDay(pool: pg.Pool, day: number): Promise<{ segments: number; events: number }> {
  const segments = await count(pool, partitionName('segments', day));
  const events = await count(pool, partitionName('events', day));
  // DROP of a partition takes an ACCESS EXCLUSIVE lock on the parent only briefly; no dead rows, no vacuum.
  for (const t of PARTITIONED) await pool.query(`DROP TABLE IF EXISTS ${partitionName(t, day)}`);
  return { segments, events };
}

const liveBytes = async (pool: pg.Pool, days: readonly number[]) => {
  if (!days.length) return 0;
  const names = days.flatMap((d) => PARTITIONED.map((t) => partitionName(t, d)));
  return Number((await pool.query('SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS b FROM pg_class c WHERE c.relname = ANY($1)', [names])).rows[0].b);
};

/**
 * Retention on the partitioned history: live rows live in one partition per UTC day.
 * Age: partitions wholly older than the cutoff are dropped; the day that straddles the
 * cutoff loses its older rows by DELETE (one partition's index range). Size: the
 * oldest day partitions are dropped while the live partitions take more than maxBytes
 * (the newest day always stays). The archive partition (indexed files) is never touched.
 */
export async function pgRetain(pool: pg.Pool, p: RetentionPolicy): Promise<{ result: RetentionResult; droppedDays: number[] }> {
  let days = await liveDays(pool);
  const before = await liveBytes(pool, days);
  let segs = 0;
  let evs = 0;
  const dropped: number[] = [];
  if (p.maxAgeMs > 0) {
    const cutoff = p.nowMs - p.maxAgeMs;
    for (const d of days) {
      if ((d + 1) * DAY_MS <= cutoff) {
        const r = await dropDay(pool, d);
        segs += r.segments;
        evs += r.events;
        dropped.push(d);
      } else if (d * DAY_MS < cutoff) {
        await pool.query(`DELETE FROM ${partitionName('segment_labels', d)} WHERE part_ms < $1`, [cutoff]);
        segs += (await pool.query(`DELETE FROM ${partitionName('segments', d)} WHERE part_ms < $1`, [cutoff])).rowCount ?? 0;
        evs += (await pool.query(`DELETE FROM ${partitionName('events', d)} WHERE part_ms < $1`, [cutoff])).rowCount ?? 0;
      }
    }
    days = days.filter((d) => !dropped.includes(d));
  }
  if (p.maxBytes > 0) {
    while (days.length > 1 && (await liveBytes(pool, days)) > p.maxBytes) {
      const d = days.shift()!;
      const r = await dropDay(pool, d);
      segs += r.segments;
      evs += r.events;
      dropped.push(d);
    }
  }
  return { result: { deletedSegments: segs, deletedEvents: evs, bytesBefore: before, bytesAfter: await liveBytes(pool, days) }, droppedDays: dropped };
}
