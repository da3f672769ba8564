import { EarshotError } from '../errors.js';
import type { HistoryStore, SegmentHit, SimilarHit, StoredEvent, StreamRef } from './contracts.js';

/**
 * Parses a time bound: ISO 8601 (2026-12-01T22:00Z, 2026-12-01) or an age like
 * 30s, 15m, 2h, 7d (that long before `nowMs`). `param` names the flag/parameter in errors.
 */
export function parseTime(v: string, param: string, nowMs: number): number {
  const rel = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(v.trim());
  if (rel) return nowMs - Number(rel[1]) * { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new EarshotError('INPUT_INVALID', `${param} must be an ISO time or an age like 2h or 7d, got '${v}'`, { param, value: v });
  return t;
}

export function parseLimit(v: string | undefined, param: string, fallback: number, max = 10_000): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new EarshotError('INPUT_INVALID', `${param} must be an integer 1..${max}, got '${v}'`, { param, value: v });
  return n;
}

export function parseScore(v: string | undefined, param: string, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new EarshotError('INPUT_INVALID', `${param} must be a number in [0, 1], got '${v}'`, { param, value: v });
  return n;
}

const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const where = (s: StreamRef) => (s.kind === 'file' ? { file: s.name } : { source: s.name, ...(s.site ? { site: s.site } : {}) });
const wall = (ms: number | null) => (ms === null ? {} : { time: new Date(ms).toISOString() });

/** The JSON shapes `earshot events|search --json` print and /api/* return. */
export function eventJson(e: StoredEvent): Record<string, unknown> {
  return {
    id: e.id,
    ...where(e.stream),
    label: e.label,
    labelId: e.labelId,
    start: e.startSeconds,
    end: e.endSeconds,
    score: r4(e.peakScore),
    meanScore: r4(e.meanScore),
    model: e.model,
    ...wall(e.wallStartMs),
  };
}

/**
 * eventJson plus `clip`: the URL path of the event's first finished clip (a split
 * event's later parts under `clips`), as event.end messages carry it. Clips that
 * failed, were removed by retention or are still being written are left out.
 */
export async function eventsWithClips(store: Pick<HistoryStore, 'clipsOf'>, events: readonly StoredEvent[]): Promise<Record<string, unknown>[]> {
  return Promise.all(
    events.map(async (e) => {
      const done = (await store.clipsOf(e.id)).filter((c) => c.state === 'done').map((c) => `/clips/${c.path}`);
      return { ...eventJson(e), ...(done.length ? { clip: done[0] } : {}), ...(done.length > 1 ? { clips: done } : {}) };
    }),
  );
}

export function hitJson(h: SegmentHit): Record<string, unknown> {
  return { ...where(h.stream), start: h.startSeconds, end: h.endSeconds, label: h.label, labelId: h.labelId, score: r4(h.score), ...wall(h.wallMs) };
}

export function similarJson(h: SimilarHit): Record<string, unknown> {
  return { ...where(h.stream), start: h.startSeconds, end: h.endSeconds, similarity: r4(h.similarity), ...wall(h.wallMs) };
}
