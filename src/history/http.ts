import type { IncomingMessage, ServerResponse } from 'node:http';

import { EarshotError, toEarshotError } from '../errors.js';
import type { HistoryStore, TimeFilter } from './contracts.js';
import { type KeywordIndex, labelIdsFor } from './keywords.js';
import { eventsWithClips, hitJson, parseLimit, parseScore, parseTime, similarJson } from './query.js';

type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function allowOnly(url: URL, allowed: readonly string[]): void {
  for (const k of url.searchParams.keys()) {
    if (k !== 'token' && !allowed.includes(k)) throw new EarshotError('INPUT_INVALID', `unknown parameter '${k}' (allowed: ${allowed.join(', ')})`, { param: k });
  }
}

function opt(url: URL, k: string): string | undefined {
  return url.searchParams.get(k) ?? undefined;
}

function filterOf(url: URL, now: number): TimeFilter {
  const source = opt(url, 'source');
  const since = opt(url, 'since');
  const until = opt(url, 'until');
  return {
    ...(source !== undefined ? { source } : {}),
    ...(since !== undefined ? { sinceMs: parseTime(since, 'since', now) } : {}),
    ...(until !== undefined ? { untilMs: parseTime(until, 'until', now) } : {}),
  };
}

/** Bad input is a 400 naming the parameter; store failures are 500/503 with the error code. */
function wrap(fn: Route): Route {
  return async (req, res, url) => {
    if (req.method !== 'GET') return send(res, 405, { error: `${req.method} not allowed; use GET` });
    try {
      await fn(req, res, url);
    } catch (e) {
      const err = toEarshotError(e);
      const status = err.code === 'INPUT_INVALID' ? 400 : err.code === 'DATA_NOT_FOUND' ? 503 : 500;
      send(res, status, { error: err.message, code: err.code, ...(typeof err.details.param === 'string' ? { param: err.details.param } : {}) });
    }
  };
}

/**
 * The history API (docs/api.md): thin adapters over the store and the same query
 * helpers as `earshot events|search`. `store()` opens lazily (the writer thread creates
 * the file); `keywords` is undefined with models.ontologyPath none (queries then match label names).
 */
export function historyRoutes(store: () => HistoryStore, keywords: KeywordIndex | undefined, nowMs: () => number): Map<string, Route> {
  return new Map<string, Route>([
    [
      '/api/events',
      wrap(async (_req, res, url) => {
        allowOnly(url, ['label', 'source', 'since', 'until', 'limit', 'cursor']);
        const label = opt(url, 'label');
        const labelIds = label === undefined ? undefined : labelIdsFor(keywords, label);
        const cursor = opt(url, 'cursor');
        if (cursor !== undefined && !/^\d+$/.test(cursor)) throw new EarshotError('INPUT_INVALID', `cursor '${cursor}' is not one this server issued`, { param: 'cursor' });
        const page = await store().events({ ...filterOf(url, nowMs()), limit: parseLimit(opt(url, 'limit'), 'limit', 50, 1000), ...(labelIds ? { labelIds } : {}), ...(cursor ? { cursor } : {}) });
        send(res, 200, { events: await eventsWithClips(store(), page.events), nextCursor: page.nextCursor });
      }),
    ],
    [
      '/api/search',
      wrap(async (_req, res, url) => {
        allowOnly(url, ['q', 'like', 'source', 'since', 'until', 'limit', 'minScore']);
        const q = opt(url, 'q');
        const like = opt(url, 'like');
        if ((q === undefined) === (like === undefined)) throw new EarshotError('INPUT_INVALID', 'give exactly one of q (keywords) or like (an event id)', { param: q === undefined ? 'q' : 'like' });
        const filter = filterOf(url, nowMs());
        const limit = parseLimit(opt(url, 'limit'), 'limit', 20, 1000);
        if (q !== undefined) {
          const r = keywords ? keywords.resolve(q) : { query: q, labels: [] };
          const hits = await store().searchLabels({ ...filter, labelIds: labelIdsFor(keywords, q), minScore: parseScore(opt(url, 'minScore'), 'minScore', 0.1), limit });
          return send(res, 200, { query: r, results: hits.map(hitJson) });
        }
        const emb = await store().eventEmbedding(like!);
        if (!emb) throw new EarshotError('INPUT_INVALID', `like: no event '${like}' with stored embeddings`, { param: 'like' });
        const hits = await store().similar({ ...filter, embedding: emb, limit });
        send(res, 200, { like, results: hits.map(similarJson) });
      }),
    ],
    [
      '/api/sources',
      wrap(async (_req, res, url) => {
        allowOnly(url, []);
        const rows = await store().sources();
        send(res, 200, {
          sources: rows.map((s) => ({
            ...(s.stream.kind === 'file' ? { file: s.stream.name } : { source: s.stream.name }),
            segments: s.segments,
            events: s.events,
            first: s.firstWallMs === null ? null : new Date(s.firstWallMs).toISOString(),
            last: s.lastWallMs === null ? null : new Date(s.lastWallMs).toISOString(),
          })),
        });
      }),
    ],
  ]);
}
