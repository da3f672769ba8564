import { z } from 'zod';
import { EarshotError, type ErrorCode } from '../errors.js';
import type { LabelEvent } from '../events/contracts.js';
import type { LabelInfo } from '../classify/contracts.js';

/** Bumped on incompatible message changes; sent in `hello`. */
export const PROTOCOL_VERSION = 1;

export const messageKinds = ['scores', 'events', 'status', 'levels', 'spectrogram'] as const;
export type MessageKind = (typeof messageKinds)[number];
/** What a subscribe without `kinds` gets: levels and spectrogram frames are asked for by name. */
export const defaultKinds = ['scores', 'events', 'status'] as const;

const subscribeSchema = z
  .object({
    type: z.literal('subscribe'),
    /** Source ids; omitted = all. */
    sources: z.array(z.string()).optional(),
    /** Label names or ontology ids; a parent id/name includes its descendants. Omitted = all. */
    labels: z.array(z.string()).optional(),
    minScore: z.number().min(0).max(1).default(0),
    topK: z.number().int().positive().max(1000).optional(),
    kinds: z.array(z.enum(messageKinds)).nonempty().default([...defaultKinds]),
    /** Send each subscribed source's most recent `scores` frame at once (a dashboard opening mid-stream). */
    latest: z.boolean().optional(),
    /** Replay retained events after this event id (string) or seq (number). */
    since: z.union([z.string(), z.number().int().nonnegative()]).optional(),
  })
  .strict();

export const clientMessageSchema = z.discriminatedUnion('type', [
  subscribeSchema,
  z.object({ type: z.literal('unsubscribe') }).strict(),
  z.object({ type: z.literal('ping'), id: z.union([z.string(), z.number()]).optional() }).strict(),
  z.object({ type: z.literal('stats') }).strict(),
  z.object({ type: z.literal('labels') }).strict(),
]);

export type ClientMessage = z.infer<typeof clientMessageSchema>;
export type SubscribeMessage = z.infer<typeof subscribeSchema>;

/** Parses one text frame; any problem is a PROTOCOL_ERROR naming what was wrong. */
export function parseClientMessage(text: string): ClientMessage {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new EarshotError('PROTOCOL_ERROR', `message is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new EarshotError('PROTOCOL_ERROR', 'message must be a JSON object with a "type"');
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string') throw new EarshotError('PROTOCOL_ERROR', 'message lacks a string "type"');
  const r = clientMessageSchema.safeParse(raw);
  if (!r.success) {
    const known = clientMessageSchema.options.map((o) => o.shape.type.value);
    if (!known.includes(type as (typeof known)[number])) throw new EarshotError('PROTOCOL_ERROR', `unknown message type "${type}" (expected one of ${known.join(', ')})`);
    const why = r.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ');
    throw new EarshotError('PROTOCOL_ERROR', `invalid ${type} message: ${why}`);
  }
  return r.data;
}

export interface SourceInfo {
  readonly id: string;
  readonly kind: string;
  readonly model: string;
}

export interface ModelInfo {
  readonly name: string;
  readonly backend: string;
  readonly labels: readonly LabelInfo[];
}

/**
 * ended: the input finished (a file without loop); failed: an error no restart can fix (not retried); stopped: daemon shutdown;
 * quiet: audio below the source's minLevelDb, so the tagger is skipped.
 */
export type SourceState = 'starting' | 'up' | 'down' | 'silent' | 'quiet' | 'ended' | 'failed' | 'stopped';

export interface SourceStatus {
  readonly sourceId: string;
  readonly state: SourceState;
  /** Seconds without audio that a restart bridged (on 'up' after 'down'). */
  readonly gapSeconds?: number;
  readonly restarts: number;
  readonly backend: string;
  readonly error?: { readonly code: ErrorCode; readonly message: string };
}

export function helloMessage(version: string, sources: readonly SourceInfo[], models: readonly ModelInfo[], status: readonly SourceStatus[]): string {
  const stateOf = new Map(status.map((s) => [s.sourceId, s.state]));
  return JSON.stringify({
    type: 'hello',
    version,
    protocol: PROTOCOL_VERSION,
    sources: sources.map((s) => ({ ...s, state: stateOf.get(s.id) ?? 'starting' })),
    // the label tables (521/527 entries, ~27 kB) come on request: `labels` message, GET /api/labels
    models: models.map((m) => ({ name: m.name, backend: m.backend, labelCount: m.labels.length })),
  });
}

/** Every model's full label table: the reply to `{"type":"labels"}` and the body of GET /api/labels. */
export function labelsMessage(models: readonly ModelInfo[]): string {
  return JSON.stringify({
    type: 'labels',
    models: models.map((m) => ({ name: m.name, backend: m.backend, labels: m.labels.map((l) => ({ index: l.index, id: l.id, name: l.name })) })),
  });
}

/** An event as sent on the wire; `seq` is the server's (absent when printed by `run --print`). */
export function eventPayload(e: LabelEvent, seq?: number): Record<string, unknown> & { type: string } {
  return { type: e.type, id: e.id, ...(seq !== undefined ? { seq } : {}), source: e.sourceId, label: e.label, labelId: e.labelId, t: e.tSeconds, start: e.startSeconds, end: e.endSeconds, score: round4(e.score), ...(e.clip ? { clip: e.clip } : {}) };
}

export function eventMessage(e: LabelEvent, seq: number): string {
  return JSON.stringify(eventPayload(e, seq));
}

export function statusMessage(s: SourceStatus, wallIso: string): string {
  return JSON.stringify({
    type: 'status',
    source: s.sourceId,
    state: s.state,
    at: wallIso,
    backend: s.backend,
    restarts: s.restarts,
    ...(s.gapSeconds !== undefined ? { gapSeconds: round4(s.gapSeconds) } : {}),
    ...(s.error ? { error: s.error } : {}),
  });
}

export function errorMessage(e: EarshotError): string {
  return JSON.stringify({ type: 'error', code: e.code, message: e.message });
}

export function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
