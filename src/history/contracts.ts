/**
 * Boundary: pipeline outputs -> history store -> `earshot events|search`, /api/*.
 *
 * The store is backend-neutral: every method is async and takes/returns plain
 * records, so a PostgreSQL backend can implement the same interface. Records passed
 * to `write` are owned by the store once passed (it may keep the Int8Array views).
 * Nothing on the live path calls the store directly: the daemon hands records to a
 * HistoryWriter (bounded queue, batched, off the event loop in a worker thread);
 * only the CLI, the indexer and HTTP handlers await store calls.
 *
 * Times: `startSeconds`/`endSeconds` are stream seconds for live sources and file
 * offsets for indexed files; `wallMs` is the wall clock of a live segment/event
 * (null for files). A stream is a live source (`kind: 'source'`, name = source id)
 * or an indexed file (`kind: 'file'`, name = path or URL).
 */

export type StreamKind = 'source' | 'file';

export interface StreamRef {
  readonly kind: StreamKind;
  readonly name: string;
  /** Fleet (src/fleet): the edge site a live source belongs to, in a hub's store; absent on one box. */
  readonly site?: string;
}

export interface ScoredLabel {
  /** Ontology id, e.g. /m/0bt9lr (labels are keyed by id, so models with different label tables mix). */
  readonly labelId: string;
  readonly label: string;
  readonly score: number;
}

/** A compact embedding: value ≈ q * scale, q in [-127, 127]. */
export interface QuantizedEmbedding {
  readonly scale: number;
  readonly q: Int8Array;
}

export interface SegmentRecord {
  readonly stream: StreamRef;
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly wallMs: number | null;
  readonly model: string;
  /** Top-k labels by score, highest first. */
  readonly top: readonly ScoredLabel[];
  readonly embedding?: QuantizedEmbedding;
}

export interface EventRecord {
  /** Unique in the store (the daemon prefixes its run id to the WebSocket event id). */
  readonly id: string;
  readonly stream: StreamRef;
  readonly label: string;
  readonly labelId: string;
  readonly startSeconds: number;
  /** null while the event is still open (written at start, completed at end). */
  readonly endSeconds: number | null;
  readonly peakScore: number;
  readonly meanScore: number;
  readonly model: string;
  readonly wallStartMs: number | null;
}

export interface FileRecord {
  readonly path: string;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly sha256: string;
  readonly durationSeconds: number;
  readonly model: string;
}

/** An event clip (src/clips): upserted by id as it goes writing -> done | failed, and done -> deleted (retention). */
export interface ClipRecord {
  /** `<event id>` or `<event id>.<part>` for the 2nd.. part of a split event; URL-safe. */
  readonly id: string;
  readonly eventId: string;
  /** Relative to clips.dir. */
  readonly path: string;
  readonly state: 'writing' | 'done' | 'failed' | 'deleted';
  readonly startSeconds: number;
  readonly endSeconds: number | null;
  readonly sampleRateHz: number;
  readonly bytes: number;
  readonly error: string | null;
}

export interface HistoryBatch {
  readonly events: readonly EventRecord[];
  readonly segments: readonly SegmentRecord[];
  /** Optional so batches from before clips existed stay valid. */
  readonly clips?: readonly ClipRecord[];
}

export interface TimeFilter {
  /** Restrict to one stream name (source id or file path). */
  readonly source?: string;
  /** Wall-clock bounds (ms since epoch) for live records; indexed files match by index time. */
  readonly sinceMs?: number;
  readonly untilMs?: number;
}

export interface EventQuery extends TimeFilter {
  /** Label names or ids (an ontology branch already expanded by the caller). */
  readonly labelIds?: readonly string[];
  readonly limit: number;
  /** Opaque cursor from a previous page (newest first). */
  readonly cursor?: string;
}

export interface StoredEvent extends EventRecord {
  readonly seq: number;
}

export interface EventPage {
  readonly events: readonly StoredEvent[];
  readonly nextCursor: string | null;
}

export interface LabelSearch extends TimeFilter {
  readonly labelIds: readonly string[];
  readonly minScore: number;
  readonly limit: number;
}

export interface SegmentHit {
  readonly segmentId: number;
  readonly stream: StreamRef;
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly wallMs: number | null;
  readonly label: string;
  readonly labelId: string;
  readonly score: number;
}

export interface SimilarQuery extends TimeFilter {
  readonly embedding: QuantizedEmbedding;
  readonly limit: number;
  /** Streams left out (the query file itself). */
  readonly excludeStream?: StreamRef;
}

export interface SimilarHit {
  readonly segmentId: number;
  readonly stream: StreamRef;
  readonly startSeconds: number;
  readonly endSeconds: number;
  readonly wallMs: number | null;
  readonly similarity: number;
}

export interface SourceSummary {
  readonly stream: StreamRef;
  readonly segments: number;
  readonly events: number;
  readonly firstWallMs: number | null;
  readonly lastWallMs: number | null;
}

export interface RetentionPolicy {
  readonly nowMs: number;
  /** 0 = no age limit. */
  readonly maxAgeMs: number;
  /** 0 = no size limit. */
  readonly maxBytes: number;
}

export interface RetentionResult {
  readonly deletedSegments: number;
  readonly deletedEvents: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

export interface HistoryStore {
  /** One transaction: all records or none. Events upsert by id (an open event is completed later). */
  write(batch: HistoryBatch): Promise<void>;
  /** The indexed state of a file, to skip unchanged files. */
  fileState(path: string): Promise<FileRecord | undefined>;
  /** Replaces everything stored for `file.path` with `batch`, in one transaction. */
  putFile(file: FileRecord, batch: HistoryBatch): Promise<void>;
  events(q: EventQuery): Promise<EventPage>;
  event(id: string): Promise<StoredEvent | undefined>;
  /** Clips of one event, in part order. */
  clipsOf(eventId: string): Promise<ClipRecord[]>;
  clip(id: string): Promise<ClipRecord | undefined>;
  /** Up to `limit` clips in one state, oldest first (crash recovery reconciles `writing` rows with the disk). */
  clipsInState(state: ClipRecord['state'], limit: number): Promise<ClipRecord[]>;
  searchLabels(q: LabelSearch): Promise<SegmentHit[]>;
  similar(q: SimilarQuery): Promise<SimilarHit[]>;
  /** Mean embedding of the segments an event spans (for `--like <event-id>`). */
  eventEmbedding(id: string): Promise<QuantizedEmbedding | undefined>;
  /** Mean embedding of a stored stream (for `--like <file>` when the file is indexed). */
  streamEmbedding(stream: StreamRef): Promise<QuantizedEmbedding | undefined>;
  sources(): Promise<SourceSummary[]>;
  retain(policy: RetentionPolicy): Promise<RetentionResult>;
  sizeBytes(): Promise<number>;
  close(): Promise<void>;
}

/** One message waiting for delivery by an integration (e.g. a webhook), in insertion order per channel. */
export interface OutboxItem {
  readonly channel: string;
  /** Unique per channel (the event id and type); a repeated put is ignored. */
  readonly key: string;
  readonly payload: string;
}

/**
 * The persistent outbox beside the history (same database, so one file holds the
 * daemon's state). Backend-neutral like HistoryStore; the daemon reaches it through the
 * writer thread (WorkerSink), never synchronously.
 */
export interface OutboxStore {
  outboxPut(items: readonly OutboxItem[]): Promise<void>;
  outboxAck(channel: string, keys: readonly string[]): Promise<void>;
  /** Oldest first. */
  outboxPending(channel: string, limit: number): Promise<OutboxItem[]>;
}
