import pg from 'pg';

import { EarshotError } from '../errors.js';
import type {
  ClipRecord,
  EventPage,
  EventQuery,
  EventRecord,
  FileRecord,
  HistoryBatch,
  HistoryStore,
  LabelSearch,
  OutboxItem,
  OutboxStore,
  QuantizedEmbedding,
  RetentionPolicy,
  RetentionResult,
  SegmentHit,
  SegmentRecord,
  SimilarHit,
  SimilarQuery,
  SourceSummary,
  StoredEvent,
  StreamKind,
  StreamRef,
  TimeFilter,
} from './contracts.js';
import { codeNorm, meanEmbedding, topCosine } from './embedding.js';
import { PgEmbeddingCache } from './postgres-embeddings.js';
import { pgRetain } from './postgres-retention.js';
import { DAY_MS, ensurePartitions, migratePostgres } from './postgres-schema.js';

export interface PostgresStoreOptions {
  /** Pool connections (history.poolMax). */
  readonly poolMax?: number;
  readonly nowMs?: () => number;
}

/** A connection string without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

export function isPostgresUrl(s: string | undefined): s is string {
  return s !== undefined && /^postgres(ql)?:\/\//.test(s);
}

/** Connection refused / server gone / too many clients: retryable HISTORY_FAILED; a full disk HISTORY_FULL. */
function pgError(e: unknown, where: string, what: string): EarshotError {
  if (e instanceof EarshotError) return e;
  const code = (e as { code?: unknown }).code;
  const msg = (e as Error).message ?? String(e);
  if (code === '53100') return new EarshotError('HISTORY_FULL', `history ${where}: ${what}: disk full (${msg})`, { url: where }, { cause: e });
  return new EarshotError('HISTORY_FAILED', `history ${where}: ${what}: ${msg}`, { url: where, pg: code }, { cause: e });
}

// bigint (int8) and numeric sums come back as strings by default; every bigint here fits a double.
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

interface EventRow {
  seq: number;
  id: string;
  kind: StreamKind;
  name: string;
  site: string;
  label: string;
  label_id: string;
  start_s: number;
  end_s: number | null;
  peak: number;
  mean: number;
  model: string;
  wall_start_ms: number | null;
}
const EVENT_COLS = `e.seq, e.id, st.kind, st.name, st.site, l.name AS label, l.label_id, e.start_s, e.end_s, e.peak, e.mean, e.model, e.wall_start_ms`;
const EVENT_FROM = `FROM events e JOIN streams st ON st.id = e.stream_id JOIN labels l ON l.id = e.label`;
const stream = (kind: StreamKind, name: string, site: string): StreamRef => (site ? { kind, name, site } : { kind, name });
const toEvent = (r: EventRow): StoredEvent => ({
  seq: r.seq,
  id: r.id,
  stream: stream(r.kind, r.name, r.site),
  label: r.label,
  labelId: r.label_id,
  startSeconds: r.start_s,
  endSeconds: r.end_s,
  peakScore: r.peak,
  meanScore: r.mean,
  model: r.model,
  wallStartMs: r.wall_start_ms,
});
interface ClipRow {
  id: string;
  event_id: string;
  path: string;
  state: ClipRecord['state'];
  start_s: number;
  end_s: number | null;
  rate: number;
  bytes: number;
  error: string | null;
}
const toClip = (r: ClipRow): ClipRecord => ({
  id: r.id,
  eventId: r.event_id,
  path: r.path,
  state: r.state,
  startSeconds: r.start_s,
  endSeconds: r.end_s,
  sampleRateHz: r.rate,
  bytes: r.bytes,
  error: r.error,
});

/** The partition a live row goes to (its wall clock); indexed files go to the archive partition (-1). */
const partOf = (kind: StreamKind, wallMs: number | null, nowMs: number) => (kind === 'file' ? -1 : (wallMs ?? nowMs));

/**
 * The history store on PostgreSQL (a hub's shared history, `history.url: postgres://…`):
 * the same HistoryStore contract as SqliteHistoryStore, over a pg connection pool. All
 * I/O is async on the pool, so the daemon uses it directly as its writer's sink.
 */
export class PostgresHistoryStore implements HistoryStore, OutboxStore {
  readonly where: string;
  readonly pool: pg.Pool;
  private readonly now: () => number;
  private ready: Promise<void>;
  private readonly streamIds = new Map<string, number>();
  private readonly labelIds = new Map<string, number>();
  private readonly days = new Set<number>();
  private readonly cache: PgEmbeddingCache;

  constructor(url: string, opts: PostgresStoreOptions = {}) {
    this.where = redactUrl(url);
    this.now = opts.nowMs ?? Date.now;
    this.pool = new pg.Pool({ connectionString: url, max: opts.poolMax ?? 4, types, connectionTimeoutMillis: 10_000 });
    // A dropped idle connection must not crash the process; the next query reconnects.
    this.pool.on('error', () => undefined);
    this.ready = migratePostgres(this.pool, this.where);
    // Retried on the next call when the server was unreachable.
    this.ready.catch(() => undefined);
    this.cache = new PgEmbeddingCache(this.pool);
  }

  private async guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      await this.ready.catch(() => (this.ready = migratePostgres(this.pool, this.where)));
      await this.ready;
      return await fn();
    } catch (e) {
      throw pgError(e, this.where, what);
    }
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  private async streamId(c: pg.ClientBase, s: StreamRef): Promise<number> {
    const site = s.site ?? '';
    const key = `${s.kind}\u0000${s.name}\u0000${site}`;
    let id = this.streamIds.get(key);
    if (id === undefined) {
      await c.query('INSERT INTO streams(kind, name, site) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [s.kind, s.name, site]);
      id = (await c.query('SELECT id FROM streams WHERE kind = $1 AND name = $2 AND site = $3', [s.kind, s.name, site])).rows[0].id as number;
      this.streamIds.set(key, id);
    }
    return id;
  }

  private async labelId(c: pg.ClientBase, labelId: string, name: string): Promise<number> {
    let id = this.labelIds.get(labelId);
    if (id === undefined) {
      await c.query('INSERT INTO labels(label_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [labelId, name]);
      id = (await c.query('SELECT id FROM labels WHERE label_id = $1', [labelId])).rows[0].id as number;
      this.labelIds.set(labelId, id);
    }
    return id;
  }

  /** Day partitions for the live rows of a batch, created outside the write transaction. */
  private async partitionsFor(batch: HistoryBatch, now: number): Promise<void> {
    const need = new Set<number>();
    const add = (kind: StreamKind, wall: number | null) => {
      const p = partOf(kind, wall, now);
      if (p >= 0) need.add(Math.floor(p / DAY_MS));
    };
    for (const s of batch.segments) add(s.stream.kind, s.wallMs);
    for (const e of batch.events) add(e.stream.kind, e.wallStartMs);
    const missing = [...need].filter((d) => !this.days.has(d));
    if (!missing.length) return;
    await ensurePartitions(this.pool, missing);
    for (const d of missing) this.days.add(d);
  }

  /** Bulk insert through unnest(): one statement per table per batch. */
  private async writeRecords(c: pg.ClientBase, batch: HistoryBatch, now: number): Promise<void> {
    if (batch.segments.length) await this.insertSegments(c, batch.segments, now);
    if (batch.events.length) await this.insertEvents(c, batch.events, now);
    if (batch.clips?.length) {
      for (const x of batch.clips) {
        await c.query(
          `INSERT INTO clips(id, event_id, path, state, start_s, end_s, rate, bytes, error, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
           ON CONFLICT(id) DO UPDATE SET state = excluded.state, end_s = coalesce(excluded.end_s, clips.end_s), bytes = excluded.bytes, error = excluded.error`,
          [x.id, x.eventId, x.path, x.state, x.startSeconds, x.endSeconds, x.sampleRateHz, x.bytes, x.error, now],
        );
      }
    }
  }

  private async insertSegments(c: pg.ClientBase, segs: readonly SegmentRecord[], now: number): Promise<void> {
    // Ids are drawn first so label rows can refer to them; a conflicting (redelivered) segment keeps its old id.
    const ids = (await c.query("SELECT nextval('segments_id_seq') AS id FROM generate_series(1, $1)", [segs.length])).rows.map((r) => r.id as number);
    const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], [], []];
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      const e = s.embedding;
      const row = [
        ids[i],
        partOf(s.stream.kind, s.wallMs, now),
        await this.streamId(c, s.stream),
        s.startSeconds,
        s.endSeconds,
        s.wallMs,
        now,
        s.model,
        e ? e.scale : null,
        e ? codeNorm(e.q) : null,
        e ? Buffer.from(e.q.buffer, e.q.byteOffset, e.q.byteLength) : null,
      ];
      row.forEach((v, k) => cols[k]!.push(v));
    }
    const kept = await c.query(
      `INSERT INTO segments(id, part_ms, stream_id, start_s, end_s, wall_ms, created_ms, model, emb_scale, emb_norm, emb)
       SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::int[], $4::float8[], $5::float8[], $6::bigint[], $7::bigint[], $8::text[], $9::real[], $10::real[], $11::bytea[])
       ON CONFLICT DO NOTHING RETURNING id`,
      cols,
    );
    const inserted = new Set(kept.rows.map((r) => r.id as number));
    const lab: unknown[][] = [[], [], [], []];
    for (let i = 0; i < segs.length; i++) {
      if (!inserted.has(ids[i]!)) continue;
      for (const t of segs[i]!.top) {
        lab[0]!.push(await this.labelId(c, t.labelId, t.label));
        lab[1]!.push(t.score);
        lab[2]!.push(ids[i]);
        lab[3]!.push(cols[1]![i]);
      }
    }
    if (lab[0]!.length) await c.query('INSERT INTO segment_labels(label, score, segment_id, part_ms) SELECT * FROM unnest($1::int[], $2::real[], $3::bigint[], $4::bigint[])', lab);
  }

  private async insertEvents(c: pg.ClientBase, events: readonly EventRecord[], now: number): Promise<void> {
    const cols: unknown[][] = [[], [], [], [], [], [], [], [], [], [], []];
    // One row per id per batch (the last copy wins), as ON CONFLICT cannot touch a row twice in one statement.
    const last = new Map<string, EventRecord>();
    for (const e of events) last.set(e.id, e.endSeconds === null && last.get(e.id)?.endSeconds != null ? last.get(e.id)! : e);
    for (const e of last.values()) {
      const row = [
        e.id,
        partOf(e.stream.kind, e.wallStartMs, now),
        await this.streamId(c, e.stream),
        await this.labelId(c, e.labelId, e.label),
        e.startSeconds,
        e.endSeconds,
        e.peakScore,
        e.meanScore,
        e.model,
        e.wallStartMs,
        now,
      ];
      row.forEach((v, k) => cols[k]!.push(v));
    }
    // A redelivered start after its end must not reopen the event: an end, once stored, stays.
    await c.query(
      `INSERT INTO events(id, part_ms, stream_id, label, start_s, end_s, peak, mean, model, wall_start_ms, created_ms)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::int[], $4::int[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::text[], $10::bigint[], $11::bigint[])
       ON CONFLICT (id, part_ms) DO UPDATE SET
         end_s = coalesce(excluded.end_s, events.end_s),
         peak = CASE WHEN excluded.end_s IS NULL AND events.end_s IS NOT NULL THEN events.peak ELSE excluded.peak END,
         mean = CASE WHEN excluded.end_s IS NULL AND events.end_s IS NOT NULL THEN events.mean ELSE excluded.mean END`,
      cols,
    );
  }

  write(batch: HistoryBatch): Promise<void> {
    return this.guard('write', async () => {
      const now = this.now();
      await this.partitionsFor(batch, now);
      await this.tx((c) => this.writeRecords(c, batch, now));
    });
  }

  fileState(path: string): Promise<FileRecord | undefined> {
    return this.guard('read file state', async () => {
      const r = (
        await this.pool.query(
          `SELECT st.name AS path, f.size_bytes, f.mtime_ms, f.sha256, f.duration_seconds, f.model FROM files f JOIN streams st ON st.id = f.stream_id WHERE st.kind = 'file' AND st.name = $1`,
          [path],
        )
      ).rows[0];
      return r && { path: r.path, sizeBytes: r.size_bytes, mtimeMs: r.mtime_ms, sha256: r.sha256, durationSeconds: r.duration_seconds, model: r.model };
    });
  }

  putFile(file: FileRecord, batch: HistoryBatch): Promise<void> {
    return this.guard(`index ${file.path}`, () =>
      this.tx(async (c) => {
        const sid = await this.streamId(c, { kind: 'file', name: file.path });
        // Serialises two workers indexing the same path.
        await c.query('SELECT 1 FROM streams WHERE id = $1 FOR UPDATE', [sid]);
        await c.query('DELETE FROM segment_labels WHERE part_ms = -1 AND segment_id IN (SELECT id FROM segments WHERE part_ms = -1 AND stream_id = $1)', [sid]);
        await c.query('DELETE FROM segments WHERE part_ms = -1 AND stream_id = $1', [sid]);
        await c.query('DELETE FROM events WHERE part_ms = -1 AND stream_id = $1', [sid]);
        const now = this.now();
        await this.writeRecords(c, batch, now);
        await c.query(
          `INSERT INTO files(stream_id, size_bytes, mtime_ms, sha256, duration_seconds, model, indexed_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (stream_id) DO UPDATE SET size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms, sha256 = excluded.sha256,
             duration_seconds = excluded.duration_seconds, model = excluded.model, indexed_ms = excluded.indexed_ms`,
          [sid, file.sizeBytes, file.mtimeMs, file.sha256, file.durationSeconds, file.model, now],
        );
      }),
    );
  }

  /** WHERE fragments for source (a name, or `site/name`) and wall-clock bounds; `args` grows. */
  private filters(q: TimeFilter, alias: string, wallCol: string, args: unknown[]): string {
    const parts: string[] = [];
    if (q.source !== undefined) {
      args.push(q.source);
      parts.push(`${alias}.stream_id IN (SELECT id FROM streams WHERE name = $${args.length} OR site || '/' || name = $${args.length})`);
    }
    const when = `coalesce(${alias}.${wallCol}, ${alias}.created_ms)`;
    if (q.sinceMs !== undefined) {
      args.push(q.sinceMs);
      parts.push(`${when} >= $${args.length}`);
    }
    if (q.untilMs !== undefined) {
      args.push(q.untilMs);
      parts.push(`${when} < $${args.length}`);
    }
    return parts.map((p) => ` AND ${p}`).join('');
  }

  events(q: EventQuery): Promise<EventPage> {
    return this.guard('list events', async () => {
      const args: unknown[] = [];
      let sql = `SELECT ${EVENT_COLS} ${EVENT_FROM} WHERE true${this.filters(q, 'e', 'wall_start_ms', args)}`;
      if (q.labelIds?.length) {
        args.push([...q.labelIds]);
        sql += ` AND (l.label_id = ANY($${args.length}) OR l.name = ANY($${args.length}))`;
      }
      if (q.cursor !== undefined) {
        const c = Number(q.cursor);
        if (!Number.isInteger(c) || c < 0) throw new EarshotError('INPUT_INVALID', `cursor '${q.cursor}' is not one this server issued`, { param: 'cursor' });
        args.push(c);
        sql += ` AND e.seq < $${args.length}`;
      }
      args.push(q.limit);
      sql += ` ORDER BY e.seq DESC LIMIT $${args.length}`;
      const rows = (await this.pool.query(sql, args)).rows.map((r) => toEvent(r as EventRow));
      return { events: rows, nextCursor: rows.length === q.limit ? String(rows[rows.length - 1]!.seq) : null };
    });
  }

  event(id: string): Promise<StoredEvent | undefined> {
    return this.guard('read event', async () => {
      const r = (await this.pool.query(`SELECT ${EVENT_COLS} ${EVENT_FROM} WHERE e.id = $1`, [id])).rows[0] as EventRow | undefined;
      return r && toEvent(r);
    });
  }

  /** Event ids present among `ids` (the fleet tests count deliveries with it). */
  eventIds(ids: readonly string[]): Promise<Set<string>> {
    return this.guard('read event ids', async () => new Set((await this.pool.query('SELECT id FROM events WHERE id = ANY($1)', [[...ids]])).rows.map((r) => r.id as string)));
  }

  clipsOf(eventId: string): Promise<ClipRecord[]> {
    return this.guard('clips', async () => (await this.pool.query('SELECT * FROM clips WHERE event_id = $1 ORDER BY start_s, id', [eventId])).rows.map((r) => toClip(r as ClipRow)));
  }

  clip(id: string): Promise<ClipRecord | undefined> {
    return this.guard('clips', async () => {
      const r = (await this.pool.query('SELECT * FROM clips WHERE id = $1', [id])).rows[0] as ClipRow | undefined;
      return r && toClip(r);
    });
  }

  clipsInState(state: ClipRecord['state'], limit: number): Promise<ClipRecord[]> {
    return this.guard('clips', async () => (await this.pool.query('SELECT * FROM clips WHERE state = $1 ORDER BY created_ms, id LIMIT $2', [state, limit])).rows.map((r) => toClip(r as ClipRow)));
  }

  searchLabels(q: LabelSearch): Promise<SegmentHit[]> {
    return this.guard('search', async () => {
      const args: unknown[] = [[...q.labelIds], q.minScore];
      const f = this.filters(q, 's', 'wall_ms', args);
      args.push(q.limit);
      // Per label, the top N by score via the (label, score) index; a segment's best label wins.
      const rows = (
        await this.pool.query(
          `SELECT DISTINCT ON (h.id) h.* FROM labels l CROSS JOIN LATERAL (
             SELECT sl.segment_id AS id, sl.score, l.name AS label, l.label_id, st.kind, st.name, st.site, s.start_s, s.end_s, s.wall_ms
             FROM segment_labels sl JOIN segments s ON s.id = sl.segment_id AND s.part_ms = sl.part_ms JOIN streams st ON st.id = s.stream_id
             WHERE sl.label = l.id AND sl.score >= $2${f} ORDER BY sl.score DESC LIMIT $${args.length}) h
           WHERE l.label_id = ANY($1) ORDER BY h.id, h.score DESC`,
          args,
        )
      ).rows;
      return rows
        .map((r): SegmentHit => ({
          segmentId: r.id,
          stream: stream(r.kind, r.name, r.site),
          startSeconds: r.start_s,
          endSeconds: r.end_s,
          wallMs: r.wall_ms,
          label: r.label,
          labelId: r.label_id,
          score: r.score,
        }))
        .sort((a, b) => b.score - a.score || a.segmentId - b.segmentId)
        .slice(0, q.limit);
    });
  }

  similar(q: SimilarQuery): Promise<SimilarHit[]> {
    return this.guard('similarity search', async () => {
      const m = await this.cache.matrix(q.embedding.q.length);
      const ex = q.excludeStream;
      const exclude = ex
        ? ((await this.pool.query('SELECT id FROM streams WHERE kind = $1 AND name = $2 AND site = $3', [ex.kind, ex.name, ex.site ?? ''])).rows[0]?.id as number | undefined)
        : undefined;
      const allowed =
        q.source === undefined ? undefined : new Set((await this.pool.query(`SELECT id FROM streams WHERE name = $1 OR site || '/' || name = $1`, [q.source])).rows.map((r) => r.id as number));
      const skip = exclude !== undefined || allowed ? (r: number) => m.streams[r] === exclude || (allowed !== undefined && !allowed.has(m.streams[r]!)) : undefined;
      const top = topCosine(q.embedding.q, m.codes, m.norms, m.rows, q.limit * 2 + 16, skip);
      const ids = top.map((t) => m.ids[t.row]!);
      const rows = new Map(
        (await this.pool.query('SELECT s.id, st.kind, st.name, st.site, s.start_s, s.end_s, s.wall_ms FROM segments s JOIN streams st ON st.id = s.stream_id WHERE s.id = ANY($1)', [ids])).rows.map(
          (r) => [r.id as number, r],
        ),
      );
      const out: SimilarHit[] = [];
      for (const t of top) {
        const r = rows.get(m.ids[t.row]!);
        if (!r) continue; // deleted since the cache was loaded
        const w = r.wall_ms as number | null;
        if (w !== null && ((q.sinceMs !== undefined && w < q.sinceMs) || (q.untilMs !== undefined && w >= q.untilMs))) continue;
        out.push({ segmentId: r.id, stream: stream(r.kind, r.name, r.site), startSeconds: r.start_s, endSeconds: r.end_s, wallMs: w, similarity: t.similarity });
        if (out.length === q.limit) break;
      }
      return out;
    });
  }

  private async meanOf(sql: string, args: unknown[]): Promise<QuantizedEmbedding | undefined> {
    const rows = (await this.pool.query(sql, args)).rows as { emb_scale: number; emb: Buffer }[];
    return meanEmbedding(rows.map((r) => ({ scale: r.emb_scale, q: new Int8Array(r.emb.buffer, r.emb.byteOffset, r.emb.byteLength) })));
  }

  eventEmbedding(id: string): Promise<QuantizedEmbedding | undefined> {
    return this.guard('read event embedding', async () => {
      const e = (await this.pool.query('SELECT stream_id, start_s, coalesce(end_s, start_s) AS end_s FROM events WHERE id = $1', [id])).rows[0] as
        { stream_id: number; start_s: number; end_s: number } | undefined;
      if (!e) return undefined;
      return this.meanOf('SELECT emb_scale, emb FROM segments WHERE stream_id = $1 AND end_s > $2 AND start_s < $3 AND emb IS NOT NULL', [e.stream_id, e.start_s, Math.max(e.end_s, e.start_s + 1e-6)]);
    });
  }

  streamEmbedding(s: StreamRef): Promise<QuantizedEmbedding | undefined> {
    return this.guard('read stream embedding', () =>
      this.meanOf('SELECT s.emb_scale, s.emb FROM segments s JOIN streams st ON st.id = s.stream_id WHERE st.kind = $1 AND st.name = $2 AND st.site = $3 AND s.emb IS NOT NULL', [
        s.kind,
        s.name,
        s.site ?? '',
      ]),
    );
  }

  sources(): Promise<SourceSummary[]> {
    return this.guard('list sources', async () => {
      const rows = (
        await this.pool.query(
          `SELECT st.kind, st.name, st.site, coalesce(sg.n, 0) AS segments, coalesce(ev.n, 0) AS events, sg.first, sg.last
           FROM streams st
           LEFT JOIN (SELECT stream_id, count(*) AS n, min(wall_ms) AS first, max(wall_ms) AS last FROM segments GROUP BY stream_id) sg ON sg.stream_id = st.id
           LEFT JOIN (SELECT stream_id, count(*) AS n FROM events GROUP BY stream_id) ev ON ev.stream_id = st.id
           ORDER BY st.kind DESC, st.site, st.name`,
        )
      ).rows;
      return rows.map((r) => ({ stream: stream(r.kind, r.name, r.site), segments: r.segments, events: r.events, firstWallMs: r.first, lastWallMs: r.last }));
    });
  }

  sizeBytes(): Promise<number> {
    return this.guard('size', async () => Number((await this.pool.query('SELECT pg_database_size(current_database()) AS b')).rows[0].b));
  }

  /** Live rows only: whole day partitions are dropped (see postgres-retention.ts). */
  retain(p: RetentionPolicy): Promise<RetentionResult> {
    return this.guard('retention', async () => {
      const r = await pgRetain(this.pool, p);
      for (const d of r.droppedDays) this.days.delete(d);
      return r.result;
    });
  }

  outboxPut(items: readonly OutboxItem[]): Promise<void> {
    return this.guard('outbox put', async () => {
      if (!items.length) return;
      await this.pool.query('INSERT INTO outbox(channel, key, payload, created_ms) SELECT c, k, p, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(c, k, p) ON CONFLICT DO NOTHING', [
        items.map((i) => i.channel),
        items.map((i) => i.key),
        items.map((i) => i.payload),
        this.now(),
      ]);
    });
  }

  outboxAck(channel: string, keys: readonly string[]): Promise<void> {
    return this.guard('outbox ack', async () => void (await this.pool.query('DELETE FROM outbox WHERE channel = $1 AND key = ANY($2)', [channel, [...keys]])));
  }

  outboxPending(channel: string, limit: number): Promise<OutboxItem[]> {
    return this.guard('outbox read', async () => (await this.pool.query('SELECT channel, key, payload FROM outbox WHERE channel = $1 ORDER BY seq LIMIT $2', [channel, limit])).rows as OutboxItem[]);
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    await this.pool.end();
  }
}
