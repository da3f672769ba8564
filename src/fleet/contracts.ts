/**
 * Boundary: edge daemon -> NATS JetStream -> `earshot hub` -> PostgreSQL (docs/scale.md).
 *
 * Subjects (one stream, `fleet.stream`, holds `earshot.>`; tokens are sanitised, the
 * payload carries the real names):
 *   earshot.<site>.<source>.event    an event record at start and again at end
 *   earshot.<site>.<source>.segment  a segment summary: top labels + int8 embedding (never audio)
 *   earshot.<site>._.heartbeat       site health every fleet.heartbeatSeconds
 *   earshot.index.file               `earshot index --queue`: one file to index (work queue stream)
 *
 * Delivery is at-least-once end to end: every message carries a Nats-Msg-Id (JetStream
 * drops duplicates inside its window) and the hub's writes are idempotent (events by id,
 * live segments by stream + time), so a redelivery never doubles a row.
 *
 * Who blocks: nothing on the edge's live path. The recorder hands records to FleetEdge
 * (`add*` return at once, bounded queue); records go to the persistent outbox (the
 * history database, through its writer thread) and are deleted from it only after
 * JetStream acknowledged them. The hub acks a message only after its PostgreSQL commit.
 */
import type { EventRecord, SegmentRecord } from '../history/contracts.js';
import type { SourceState } from '../server/protocol.js';

export interface SourceBeat {
  readonly id: string;
  readonly state: SourceState;
  readonly lastAudioMs: number | null;
}

/** JSON on the wire. `queuedMs` is the edge's clock when the record was handed over (edge -> hub latency). */
export type FleetMessage =
  | { readonly type: 'event'; readonly site: string; readonly queuedMs: number; readonly record: EventRecord }
  | { readonly type: 'segment'; readonly site: string; readonly queuedMs: number; readonly record: WireSegment }
  | { readonly type: 'heartbeat'; readonly site: string; readonly sentMs: number; readonly version: string; readonly sources: readonly SourceBeat[] };

/** A SegmentRecord with its int8 embedding as base64. */
export type WireSegment = Omit<SegmentRecord, 'embedding'> & { readonly embedding?: { readonly scale: number; readonly q: string } };

/** A file for `earshot worker` (src/fleet/work.ts). */
export interface IndexJob {
  readonly path: string;
  readonly enqueuedMs: number;
}
