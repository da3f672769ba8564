import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

import Database from 'better-sqlite3';

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
} from './contracts.js';
import { codeNorm, meanEmbedding, topCosine } from './embedding.js';
import { EmbeddingCache } from './sqlite-embeddings.js';
import { outboxAck, outboxPending, outboxPut } from './sqlite-outbox.js';
import { migrate } from './sqlite-schema.js';

export interface SqliteStoreOptions {
  readonly readonly?: boolean;
  /** Caps the file (pages of page_size); a full file fails writes with HISTORY_FULL. */
  readonly maxPageCount?: number;
  readonly nowMs?: () => number;
}

/** SQLite errors become typed ones: a full disk or capped file is HISTORY_FULL, anything else HISTORY_FAILED. */
export function historyError(e: unknown, path: string, what: string): EarshotError {
  if (e instanceof EarshotError) return e;
  const code = (e as { code?: unknown }).code;
  const msg = (e as Error).message ?? String(e);
  if (code === 'SQLITE_FULL') return new EarshotError('HISTORY_FULL', `history ${path}: ${what}: disk or database full (${msg})`, { path }, { cause: e });
  return new EarshotError('HISTORY_FAILED', `history ${path}: ${what}: ${msg}`, { path, sqlite: code }, { cause: e });
}

interface SegRow {
  id: number;
  kind: StreamKind;
  name: string;
  start_s: number;
  end_s: number;
  wall_ms: number | null;
}
interface EventRow {
  seq: number;
  id: string;
  kind: StreamKind;
  name: string;
  label: string;
  label_id: string;
  start_s: number;
  end_s: number | null;
  peak: number;
  mean: number;
  model: string;
  wall_start_ms: number | null;
}

const EVENT_COLS = `e.seq, e.id, st.kind, st.name, l.name AS label, l.label_id, e.start_s, e.end_s, e.peak, e.mean, e.model, e.wall_start_ms`;
const EVENT_FROM = `FROM events e JOIN streams st ON st.id = e.stream_id JOIN labels l ON l.id = e.label`;

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
const CLIP_COLS = 'id, event_id, path, state, start_s, end_s, rate, bytes, error';
function toClip(r: ClipRow): ClipRecord {
  return { id: r.id, eventId: r.event_id, path: r.path, state: r.state, startSeconds: r.start_s, endSeconds: r.end_s, sampleRateHz: r.rate, bytes: r.bytes, error: r.error };
}

function toEvent(r: EventRow): StoredEvent {
  return {
    seq: r.seq,
    id: r.id,
    stream: { kind: r.kind, name: r.name },
    label: r.label,
    labelId: r.label_id,
    startSeconds: r.start_s,
    endSeconds: r.end_s,
    peakScore: r.peak,
    meanScore: r.mean,
    model: r.model,
    wallStartMs: r.wall_start_ms,
  };
}

function blob(e: QuantizedEmbedding): Buffer {
  return Buffer.from(e.q.buffer, e.q.byteOffset, e.q.byteLength);
}

/** The default history backend: one SQLite file in WAL mode (readers never wait for the writer). */
export class SqliteHistoryStore implements HistoryStore, OutboxStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly now: () => number;
  private readonly streamIds = new Map<string, number>();
  private readonly labelIds = new Map<string, number>();
  private readonly cache: EmbeddingCache;

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    this.path = path;
    this.now = opts.nowMs ?? Date.now;
    try {
      if (!opts.readonly) mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
      if (!opts.readonly) {
        // auto_vacuum must be chosen before the first table exists; incremental lets retention return pages to the OS.
        this.db.pragma('auto_vacuum = INCREMENTAL');
        this.db.pragma('journal_mode = WAL');
        // NORMAL in WAL: a crash loses at most the last commits, never consistency.
        this.db.pragma('synchronous = NORMAL');
        if (opts.maxPageCount) this.db.pragma(`max_page_count = ${opts.maxPageCount}`);
        migrate(this.db, path);
      }
      this.db.pragma('busy_timeout = 5000');
    } catch (e) {
      if ((e as { code?: unknown }).code === 'SQLITE_CANTOPEN') throw new EarshotError('DATA_NOT_FOUND', `history database ${path} cannot be opened (${(e as Error).message})`, { path });
      throw historyError(e, path, 'open');
    }
    this.cache = new EmbeddingCache(this.db);
  }

  private guard<T>(what: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(historyError(e, this.path, what));
    }
  }

  private streamId(s: StreamRef): number {
    const key = `${s.kind}\u0000${s.name}`;
    let id = this.streamIds.get(key);
    if (id === undefined) {
      this.db.prepare('INSERT OR IGNORE INTO streams(kind, name) VALUES (?, ?)').run(s.kind, s.name);
      id = (this.db.prepare('SELECT id FROM streams WHERE kind = ? AND name = ?').get(s.kind, s.name) as { id: number }).id;
      this.streamIds.set(key, id);
    }
    return id;
  }

  private labelId(labelId: string, name: string): number {
    let id = this.labelIds.get(labelId);
    if (id === undefined) {
      this.db.prepare('INSERT OR IGNORE INTO labels(label_id, name) VALUES (?, ?)').run(labelId, name);
      id = (this.db.prepare('SELECT id FROM labels WHERE label_id = ?').get(labelId) as { id: number }).id;
      this.labelIds.set(labelId, id);
    }
    return id;
  }

  private writeRecords(batch: HistoryBatch, createdMs: number): void {
    const seg = this.db.prepare('INSERT INTO segments(stream_id, start_s, end_s, wall_ms, created_ms, model, emb_scale, emb_norm, emb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    const lab = this.db.prepare('INSERT OR REPLACE INTO segment_labels(label, score, segment_id) VALUES (?, ?, ?)');
    const ev = this.db.prepare(
      `INSERT INTO events(id, stream_id, label, start_s, end_s, peak, mean, model, wall_start_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET end_s = excluded.end_s, peak = excluded.peak, mean = excluded.mean`,
    );
    for (const s of batch.segments) this.insertSegment(seg, lab, s, createdMs);
    for (const e of batch.events) this.insertEvent(ev, e, createdMs);
    if (batch.clips?.length) {
      const cl = this.db.prepare(
        `INSERT INTO clips(id, event_id, path, state, start_s, end_s, rate, bytes, error, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, end_s = coalesce(excluded.end_s, end_s), bytes = excluded.bytes, error = excluded.error`,
      );
      for (const c of batch.clips) cl.run(c.id, c.eventId, c.path, c.state, c.startSeconds, c.endSeconds, c.sampleRateHz, c.bytes, c.error, createdMs);
    }
  }

  clipsOf(eventId: string): Promise<ClipRecord[]> {
    return this.guard('clips', () => (this.db.prepare(`SELECT ${CLIP_COLS} FROM clips WHERE event_id = ? ORDER BY start_s, id`).all(eventId) as ClipRow[]).map(toClip));
  }

  clip(id: string): Promise<ClipRecord | undefined> {
    return this.guard('clips', () => {
      const r = this.db.prepare(`SELECT ${CLIP_COLS} FROM clips WHERE id = ?`).get(id) as ClipRow | undefined;
      return r ? toClip(r) : undefined;
    });
  }

  clipsInState(state: ClipRecord['state'], limit: number): Promise<ClipRecord[]> {
    return this.guard('clips', () => (this.db.prepare(`SELECT ${CLIP_COLS} FROM clips WHERE state = ? ORDER BY created_ms, id LIMIT ?`).all(state, limit) as ClipRow[]).map(toClip));
  }

  private insertSegment(seg: Database.Statement, lab: Database.Statement, s: SegmentRecord, createdMs: number): void {
    const e = s.embedding;
    const r = seg.run(this.streamId(s.stream), s.startSeconds, s.endSeconds, s.wallMs, createdMs, s.model, e ? e.scale : null, e ? codeNorm(e.q) : null, e ? blob(e) : null);
    const id = Number(r.lastInsertRowid);
    for (const t of s.top) lab.run(this.labelId(t.labelId, t.label), t.score, id);
  }

  private insertEvent(ev: Database.Statement, e: EventRecord, createdMs: number): void {
    ev.run(e.id, this.streamId(e.stream), this.labelId(e.labelId, e.label), e.startSeconds, e.endSeconds, e.peakScore, e.meanScore, e.model, e.wallStartMs, createdMs);
  }

  write(batch: HistoryBatch): Promise<void> {
    return this.guard('write', () => this.db.transaction(() => this.writeRecords(batch, this.now()))());
  }

  fileState(path: string): Promise<FileRecord | undefined> {
    return this.guard('read file state', () => {
      const r = this.db
        .prepare(`SELECT st.name AS path, f.size_bytes, f.mtime_ms, f.sha256, f.duration_seconds, f.model FROM files f JOIN streams st ON st.id = f.stream_id WHERE st.kind = 'file' AND st.name = ?`)
        .get(path) as { path: string; size_bytes: number; mtime_ms: number; sha256: string; duration_seconds: number; model: string } | undefined;
      return r && { path: r.path, sizeBytes: r.size_bytes, mtimeMs: r.mtime_ms, sha256: r.sha256, durationSeconds: r.duration_seconds, model: r.model };
    });
  }

  putFile(file: FileRecord, batch: HistoryBatch): Promise<void> {
    return this.guard(`index ${file.path}`, () =>
      this.db.transaction(() => {
        const sid = this.streamId({ kind: 'file', name: file.path });
        this.db.prepare('DELETE FROM segment_labels WHERE segment_id IN (SELECT id FROM segments WHERE stream_id = ?)').run(sid);
        this.db.prepare('DELETE FROM segments WHERE stream_id = ?').run(sid);
        this.db.prepare('DELETE FROM events WHERE stream_id = ?').run(sid);
        const now = this.now();
        this.writeRecords(batch, now);
        this.db
          .prepare('INSERT OR REPLACE INTO files(stream_id, size_bytes, mtime_ms, sha256, duration_seconds, model, indexed_ms) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(sid, file.sizeBytes, file.mtimeMs, file.sha256, file.durationSeconds, file.model, now);
      })(),
    );
  }

  private filters(q: { source?: string; sinceMs?: number; untilMs?: number }, alias: string, wallCol: string): { sql: string; args: unknown[] } {
    const parts: string[] = [];
    const args: unknown[] = [];
    if (q.source !== undefined) {
      parts.push(`${alias}.stream_id IN (SELECT id FROM streams WHERE name = ?)`);
      args.push(q.source);
    }
    const when = `coalesce(${alias}.${wallCol}, ${alias}.created_ms)`;
    if (q.sinceMs !== undefined) {
      parts.push(`${when} >= ?`);
      args.push(q.sinceMs);
    }
    if (q.untilMs !== undefined) {
      parts.push(`${when} < ?`);
      args.push(q.untilMs);
    }
    return { sql: parts.map((p) => ` AND ${p}`).join(''), args };
  }

  events(q: EventQuery): Promise<EventPage> {
    return this.guard('list events', () => {
      const f = this.filters(q, 'e', 'wall_start_ms');
      let sql = `SELECT ${EVENT_COLS} ${EVENT_FROM} WHERE 1=1${f.sql}`;
      const args = [...f.args];
      if (q.labelIds?.length) {
        const marks = q.labelIds.map(() => '?').join(',');
        sql += ` AND (l.label_id IN (${marks}) OR l.name IN (${marks}))`;
        args.push(...q.labelIds, ...q.labelIds);
      }
      if (q.cursor !== undefined) {
        const c = Number(q.cursor);
        if (!Number.isInteger(c) || c < 0) throw new EarshotError('INPUT_INVALID', `cursor '${q.cursor}' is not one this server issued`, { param: 'cursor' });
        sql += ' AND e.seq < ?';
        args.push(c);
      }
      sql += ' ORDER BY e.seq DESC LIMIT ?';
      args.push(q.limit);
      const rows = (this.db.prepare(sql).all(...args) as EventRow[]).map(toEvent);
      return { events: rows, nextCursor: rows.length === q.limit ? String(rows[rows.length - 1]!.seq) : null };
    });
  }

  event(id: string): Promise<StoredEvent | undefined> {
    return this.guard('read event', () => {
      const r = this.db.prepare(`SELECT ${EVENT_COLS} ${EVENT_FROM} WHERE e.id = ?`).get(id) as EventRow | undefined;
      return r && toEvent(r);
    });
  }

  searchLabels(q: LabelSearch): Promise<SegmentHit[]> {
    return this.guard('search', () => {
      const f = this.filters(q, 's', 'wall_ms');
      // One index walk per label from its top score; a segment's best label wins. Each
      // true top-N segment is within the top N of its best label, so N per label suffices.
      const stmt = this.db.prepare(
        `SELECT sl.segment_id AS id, sl.score, st.kind, st.name, s.start_s, s.end_s, s.wall_ms
         FROM segment_labels sl JOIN segments s ON s.id = sl.segment_id JOIN streams st ON st.id = s.stream_id
         WHERE sl.label = ? AND sl.score >= ?${f.sql} ORDER BY sl.score DESC LIMIT ?`,
      );
      const best = new Map<number, SegmentHit>();
      for (const labelId of q.labelIds) {
        // An id, or a label name (any case) when there is no ontology to resolve it.
        const l = this.db.prepare('SELECT id, name, label_id FROM labels WHERE label_id = ? OR name = ? COLLATE NOCASE ORDER BY label_id = ? DESC').get(labelId, labelId, labelId) as
          { id: number; name: string; label_id: string } | undefined;
        if (!l) continue;
        for (const r of stmt.all(l.id, q.minScore, ...f.args, q.limit) as (SegRow & { score: number })[]) {
          const prev = best.get(r.id);
          if (prev && prev.score >= r.score) continue;
          best.set(r.id, {
            segmentId: r.id,
            stream: { kind: r.kind, name: r.name },
            startSeconds: r.start_s,
            endSeconds: r.end_s,
            wallMs: r.wall_ms,
            label: l.name,
            labelId: l.label_id,
            score: r.score,
          });
        }
      }
      return [...best.values()].sort((a, b) => b.score - a.score || a.segmentId - b.segmentId).slice(0, q.limit);
    });
  }

  similar(q: SimilarQuery): Promise<SimilarHit[]> {
    return this.guard('similarity search', () => {
      const m = this.cache.matrix(q.embedding.q.length);
      const exclude = q.excludeStream
        ? (this.db.prepare('SELECT id FROM streams WHERE kind = ? AND name = ?').get(q.excludeStream.kind, q.excludeStream.name) as { id: number } | undefined)?.id
        : undefined;
      const filtered = q.source !== undefined || q.sinceMs !== undefined || q.untilMs !== undefined;
      const allowed = filtered ? this.allowedStreams(q) : undefined;
      const skip = exclude !== undefined || allowed ? (r: number) => m.streams[r] === exclude || (allowed !== undefined && !allowed.has(m.streams[r]!)) : undefined;
      // Over-fetch: rows deleted since the cache was built are dropped when resolved below.
      const top = topCosine(q.embedding.q, m.codes, m.norms, m.rows, q.limit * 2 + 16, skip);
      const get = this.db.prepare(`SELECT s.id, st.kind, st.name, s.start_s, s.end_s, s.wall_ms FROM segments s JOIN streams st ON st.id = s.stream_id WHERE s.id = ?`);
      const out: SimilarHit[] = [];
      for (const t of top) {
        const r = get.get(m.ids[t.row]!) as SegRow | undefined;
        if (!r) continue;
        if (filtered && !this.inTime(r.wall_ms, q)) continue;
        out.push({ segmentId: r.id, stream: { kind: r.kind, name: r.name }, startSeconds: r.start_s, endSeconds: r.end_s, wallMs: r.wall_ms, similarity: t.similarity });
        if (out.length === q.limit) break;
      }
      return out;
    });
  }

  private inTime(wall: number | null, q: { sinceMs?: number; untilMs?: number }): boolean {
    if (wall === null) return true;
    return (q.sinceMs === undefined || wall >= q.sinceMs) && (q.untilMs === undefined || wall < q.untilMs);
  }

  private allowedStreams(q: { source?: string }): Set<number> | undefined {
    if (q.source === undefined) return undefined;
    return new Set((this.db.prepare('SELECT id FROM streams WHERE name = ?').all(q.source) as { id: number }[]).map((r) => r.id));
  }

  private meanOf(sql: string, ...args: unknown[]): QuantizedEmbedding | undefined {
    const rows = this.db.prepare(sql).all(...args) as { emb_scale: number; emb: Buffer }[];
    return meanEmbedding(rows.map((r) => ({ scale: r.emb_scale, q: new Int8Array(r.emb.buffer, r.emb.byteOffset, r.emb.byteLength) })));
  }

  eventEmbedding(id: string): Promise<QuantizedEmbedding | undefined> {
    return this.guard('read event embedding', () => {
      const e = this.db.prepare('SELECT stream_id, start_s, coalesce(end_s, start_s) AS end_s FROM events WHERE id = ?').get(id) as { stream_id: number; start_s: number; end_s: number } | undefined;
      if (!e) return undefined;
      // Segments overlapping the event.
      return this.meanOf('SELECT emb_scale, emb FROM segments WHERE stream_id = ? AND end_s > ? AND start_s < ? AND emb IS NOT NULL', e.stream_id, e.start_s, Math.max(e.end_s, e.start_s + 1e-6));
    });
  }

  streamEmbedding(stream: StreamRef): Promise<QuantizedEmbedding | undefined> {
    return this.guard('read stream embedding', () =>
      this.meanOf('SELECT s.emb_scale, s.emb FROM segments s JOIN streams st ON st.id = s.stream_id WHERE st.kind = ? AND st.name = ? AND s.emb IS NOT NULL', stream.kind, stream.name),
    );
  }

  sources(): Promise<SourceSummary[]> {
    return this.guard('list sources', () => {
      const rows = this.db
        .prepare(
          `SELECT st.kind, st.name,
             (SELECT count(*) FROM segments s WHERE s.stream_id = st.id) AS segments,
             (SELECT count(*) FROM events e WHERE e.stream_id = st.id) AS events,
             (SELECT min(wall_ms) FROM segments s WHERE s.stream_id = st.id) AS first,
             (SELECT max(wall_ms) FROM segments s WHERE s.stream_id = st.id) AS last
           FROM streams st ORDER BY st.kind DESC, st.name`,
        )
        .all() as { kind: StreamKind; name: string; segments: number; events: number; first: number | null; last: number | null }[];
      return rows.map((r) => ({ stream: { kind: r.kind, name: r.name }, segments: r.segments, events: r.events, firstWallMs: r.first, lastWallMs: r.last }));
    });
  }

  sizeBytes(): Promise<number> {
    return this.guard('size', () => this.bytes());
  }

  /** Bytes in use (pages minus free pages), which deletions lower even before the file shrinks. */
  private bytes(): number {
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * (this.db.pragma('page_size', { simple: true }) as number);
  }

  private fileBytes(): number {
    return (this.db.pragma('page_count', { simple: true }) as number) * (this.db.pragma('page_size', { simple: true }) as number);
  }

  /**
   * Retention applies to live recordings (streams of kind 'source'); an indexed archive
   * stays until it is re-indexed. Age first, then the oldest live segments go in slices
   * until the used size fits; free pages are then returned to the file system.
   */
  retain(p: RetentionPolicy): Promise<RetentionResult> {
    return this.guard('retention', () => {
      const before = this.fileBytes();
      let segs = 0;
      let evs = 0;
      const live = `(SELECT id FROM streams WHERE kind = 'source')`;
      const delSegs = (where: string, ...args: unknown[]) => {
        this.db.prepare(`DELETE FROM segment_labels WHERE segment_id IN (SELECT id FROM segments WHERE stream_id IN ${live} AND ${where})`).run(...args);
        segs += this.db.prepare(`DELETE FROM segments WHERE stream_id IN ${live} AND ${where}`).run(...args).changes;
      };
      if (p.maxAgeMs > 0) {
        const cutoff = p.nowMs - p.maxAgeMs;
        this.db.transaction(() => {
          delSegs('created_ms < ?', cutoff);
          evs += this.db.prepare(`DELETE FROM events WHERE stream_id IN ${live} AND created_ms < ?`).run(cutoff).changes;
        })();
      }
      if (p.maxBytes > 0) {
        for (let guard = 0; guard < 100 && this.bytes() > p.maxBytes; guard++) {
          const n = (this.db.prepare(`SELECT count(*) AS n FROM segments WHERE stream_id IN ${live}`).get() as { n: number }).n;
          if (n === 0) break;
          // Drop the share of live segments by which the used size is over, plus a 5% margin.
          const over = 1 - p.maxBytes / this.bytes();
          const take = Math.max(1, Math.ceil(n * Math.min(1, over + 0.05)));
          const edge = this.db.prepare(`SELECT id, created_ms FROM segments WHERE stream_id IN ${live} ORDER BY id LIMIT 1 OFFSET ?`).get(take - 1) as { id: number; created_ms: number };
          this.db.transaction(() => {
            delSegs('id <= ?', edge.id);
            evs += this.db.prepare(`DELETE FROM events WHERE stream_id IN ${live} AND created_ms <= ?`).run(edge.created_ms).changes;
          })();
        }
      }
      if (segs + evs > 0) {
        this.db.pragma('incremental_vacuum');
        this.db.pragma('wal_checkpoint(TRUNCATE)');
      }
      return { deletedSegments: segs, deletedEvents: evs, bytesBefore: before, bytesAfter: this.fileBytes() };
    });
  }

  outboxPut(items: readonly OutboxItem[]): Promise<void> {
    return this.guard('outbox put', () => outboxPut(this.db, items, this.now()));
  }

  outboxAck(channel: string, keys: readonly string[]): Promise<void> {
    return this.guard('outbox ack', () => outboxAck(this.db, channel, keys));
  }

  outboxPending(channel: string, limit: number): Promise<OutboxItem[]> {
    return this.guard('outbox read', () => outboxPending(this.db, channel, limit));
  }

  /** Raw handle for integrity checks in tests and the bench. */
  get handle(): Database.Database {
    return this.db;
  }

  close(): Promise<void> {
    return this.guard('close', () => {
      if (this.db.open) this.db.close();
    });
  }
}
