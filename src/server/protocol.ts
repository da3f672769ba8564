import { z } from 'zod';

import type { LabelInfo } from '../classify/contracts.js';
import { topK } from '../classify/top-k.js';
import { EarshotError, type ErrorCode } from '../errors.js';
import type { LabelEvent, ScoreFrame } from '../events/contracts.js';
import type { SubscriberStats } from './contracts.js';
import type { Subscription } from './subscription.js';

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
    kinds: z
      .array(z.enum(messageKinds))
      .nonempty()
      .default([...defaultKinds]),
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
  // 👍/👎 on a history event (same as POST /api/feedback); `id` is echoed in the reply.
  z
    .object({
      type: z.literal('feedback'),
      eventId: z.string().min(1).max(512),
      correct: z.boolean(),
      label: z.string().min(1).max(200).optional(),
      id: z.union([z.string(), z.number()]).optional(),
    })
    .strict(),
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

/**
 * What the server sees of one source: a snapshot the daemon builds on request, so SIGHUP,
 * restarts and state changes show without the server holding daemon objects.
 */
export interface SourceView {
  readonly id: string;
  readonly kind: string;
  /** The tagger the source runs; sources sharing a model directory share this object. */
  readonly model: ModelInfo;
  readonly status: SourceStatus;
  /** Wall time of the last audio chunk, ISO; null before the first. */
  readonly lastAudioAt: string | null;
  /** Stream seconds read so far. */
  readonly streamSeconds: number;
  /** Tagger latency of the most recent patch, ms (the dashboard's health panel). */
  readonly inferenceMs?: number;
  /** The most recent failure (kept after recovery, with when it happened), if any. */
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: string };
}

/** The distinct models behind `sources`, in first-use order. */
export function modelsOf(sources: readonly SourceView[]): ModelInfo[] {
  return [...new Set(sources.map((s) => s.model))];
}

/**
 * The /healthz body: ok while every source is up, silent or ended. Without `details` (no token,
 * server.publicHealth status) only the status; with them, sources, clients and integrations.
 */
export function healthBody(sources: readonly SourceView[], details?: { readonly clients: unknown; readonly integrations: unknown }): { ok: boolean; body: string } {
  const ok = sources.every((s) => s.status.state === 'up' || s.status.state === 'silent' || s.status.state === 'quiet' || s.status.state === 'ended');
  const status = ok ? 'ok' : 'degraded';
  if (!details) return { ok, body: JSON.stringify({ status }) };
  const integrations = details.integrations;
  return { ok, body: JSON.stringify({ status, sources: sources.map(sourceHealth), clients: details.clients, ...(integrations ? { integrations } : {}) }) };
}

/** A source as /healthz lists it. */
export function sourceHealth(s: SourceView): Record<string, unknown> {
  return {
    id: s.id,
    state: s.status.state,
    backend: s.status.backend,
    restarts: s.status.restarts,
    lastAudioAt: s.lastAudioAt,
    streamSeconds: s.streamSeconds,
    model: s.model.name,
    ...(s.inferenceMs !== undefined ? { inferenceMs: Math.round(s.inferenceMs * 10) / 10 } : {}),
    ...(s.lastError ? { lastError: s.lastError } : {}),
  };
}

export function helloMessage(version: string, sources: readonly SourceView[]): string {
  return JSON.stringify({
    type: 'hello',
    version,
    protocol: PROTOCOL_VERSION,
    sources: sources.map((s) => ({ id: s.id, kind: s.kind, model: s.model.name, state: s.status.state })),
    // the label tables (521/527 entries, ~27 kB) come on request: `labels` message, GET /api/labels
    models: modelsOf(sources).map((m) => ({ name: m.name, backend: m.backend, labelCount: m.labels.length })),
  });
}

/** Every model's full label table: the reply to `{"type":"labels"}` and the body of GET /api/labels. */
export function labelsMessage(models: readonly ModelInfo[]): string {
  return JSON.stringify({
    type: 'labels',
    models: models.map((m) => ({ name: m.name, backend: m.backend, labels: m.labels.map((l) => ({ index: l.index, id: l.id, name: l.name })) })),
  });
}

/**
 * The serializers below are the one place a frame or an event becomes JSON: the
 * WebSocket, `earshot run --print` and `earshot tag --json` all call them, so the
 * shapes and rounding (scores to 4 decimals, times to µs) cannot drift apart.
 */

/**
 * A `scores` message for the label indices `top` (best first). `t` is when the window
 * completed (`end`) on the wire; `earshot tag` stamps hops at their `start` (a file's
 * hop grid: 0, 0.48, ...), see docs/protocol.md.
 */
export function scoresPayload(frame: ScoreFrame, top: readonly number[], stamp: 'end' | 'start' = 'end'): Record<string, unknown> & { type: string } {
  const start = roundUs(frame.startSeconds ?? frame.tSeconds);
  const end = roundUs(frame.tSeconds);
  return {
    type: 'scores',
    source: frame.sourceId,
    t: stamp === 'end' ? end : start,
    start,
    end,
    top: top.map((i) => ({ label: frame.labels[i]!.name, id: frame.labels[i]!.id, score: round4(frame.scores[i]!) })),
  };
}

export { topK };

/** An event as sent on the wire; `seq` is the server's (absent when printed by `run --print` or `tag --json`). */
export function eventPayload(e: LabelEvent, seq?: number): Record<string, unknown> & { type: string } {
  return {
    type: e.type,
    id: e.id,
    ...(seq !== undefined ? { seq } : {}),
    source: e.sourceId,
    label: e.label,
    labelId: e.labelId,
    t: e.tSeconds,
    start: e.startSeconds,
    end: e.endSeconds,
    score: round4(e.score),
    ...(e.clip ? { clip: e.clip } : {}),
  };
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

/** `scores` JSON for one subscription, or undefined when nothing passes its minScore and labels. */
export function scoresMessage(frame: ScoreFrame, sub: Subscription): string | undefined {
  const s = sub.sources.get(frame.sourceId);
  if (!s) return undefined;
  const top = topK(frame.scores, sub.topK, sub.minScore, s.mask);
  if (top.length === 0) return undefined;
  return JSON.stringify(scoresPayload(frame, top));
}

export function subscribedMessage(sub: Subscription, labelsBySource: ReadonlyMap<string, readonly LabelInfo[]>): string {
  const perSource = [...sub.sources].map(([id, s]) => ({ source: id, labels: s.ids ? s.ids.size : labelsBySource.get(id)!.length }));
  return JSON.stringify({ type: 'subscribed', sources: perSource, kinds: [...sub.kinds], minScore: sub.minScore, topK: sub.topK });
}

export function unsubscribedMessage(): string {
  return JSON.stringify({ type: 'unsubscribed' });
}

export function pongMessage(id: string | number | undefined, wallIso: string): string {
  return JSON.stringify({ type: 'pong', ...(id !== undefined ? { id } : {}), at: wallIso });
}

export function statsMessage(stats: SubscriberStats): string {
  return JSON.stringify({ type: 'stats', ...stats });
}

export function errorMessage(e: EarshotError, id?: string | number): string {
  return JSON.stringify({ type: 'error', code: e.code, message: e.message, ...(id !== undefined ? { id } : {}) });
}

function roundUs(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

export function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}
