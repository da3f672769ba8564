import type { IncomingMessage, ServerResponse } from 'node:http';

import { EarshotError, toEarshotError } from '../errors.js';
import { type FeedbackBody, feedbackBodySchema, type FeedbackDeps, fileEventFeedback } from './feedback-event.js';

const MAX_BODY_BYTES = 4096;

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const c of req as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > MAX_BODY_BYTES) throw new EarshotError('INPUT_INVALID', `body is over ${MAX_BODY_BYTES} bytes`, { param: 'body' });
    parts.push(c);
  }
  return Buffer.concat(parts).toString('utf8');
}

/** Validates a feedback body (HTTP or WebSocket); the error names the bad field. */
export function parseFeedbackBody(raw: unknown): FeedbackBody {
  const r = feedbackBodySchema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const param = issue.path.join('.') || 'body';
  throw new EarshotError('INPUT_INVALID', `${param}: ${issue.message} (body is {eventId: string, correct: boolean, label?: string})`, { param });
}

export function feedbackStatus(code: string): number {
  return code === 'INPUT_INVALID' ? 400 : code === 'EVENT_NOT_FOUND' ? 404 : 500;
}

/** `POST /api/feedback {eventId, correct, label?}` (docs/api.md): a thin adapter over fileEventFeedback. */
export function feedbackRoute(deps: FeedbackDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    if (req.method !== 'POST') return send(res, 405, { error: `${req.method} not allowed; use POST` });
    try {
      const text = await readBody(req);
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new EarshotError('INPUT_INVALID', `body is not JSON: ${JSON.stringify(text.slice(0, 80))}`, { param: 'body' });
      }
      send(res, 200, await fileEventFeedback(deps, parseFeedbackBody(json)));
    } catch (e) {
      const err = toEarshotError(e);
      send(res, feedbackStatus(err.code), { error: err.message, code: err.code, ...(typeof err.details.param === 'string' ? { param: err.details.param } : {}) });
    }
  };
}
