import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { ServerConfig } from '../config/sections/server.js';
import { EarshotError } from '../errors.js';

/**
 * The request target as a URL, or undefined when it is not an origin-form path. Parsed against a
 * fixed origin rather than as a relative reference: `new URL('//%00x', base)` reads `//…` as a
 * host and throws, which (found by test/fuzz) would reject the request handler and end the daemon.
 */
export function requestUrl(req: IncomingMessage): URL | undefined {
  const target = req.url ?? '/';
  if (!target.startsWith('/')) return undefined;
  try {
    return new URL(`http://x${target}`);
  } catch {
    return undefined;
  }
}

/** The token a request carries: `Authorization: Bearer <t>` (scheme case-insensitive, RFC 7235) or `?token=`. */
export function requestToken(req: IncomingMessage): string | undefined {
  const m = /^bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '');
  if (m) return m[1];
  return requestUrl(req)?.searchParams.get('token') ?? undefined;
}

function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** WebSocket upgrade: open when no token is configured. */
export function authorized(req: IncomingMessage, cfg: ServerConfig): boolean {
  return !cfg.token || sameToken(requestToken(req), cfg.token);
}

/**
 * What an HTTP request may see. /metrics needs server.metricsToken, else the main token
 * (when either is set). /healthz with the token, or with no token configured, is full;
 * without it, server.publicHealth decides: `status` (only ok/degraded), `full`, or `none`.
 */
export function httpAccess(req: IncomingMessage, path: string, cfg: ServerConfig): 'full' | 'status' | 'denied' {
  if (path === '/metrics') {
    const need = cfg.metricsToken || cfg.token;
    if (!need) return 'full';
    const given = requestToken(req);
    return sameToken(given, need) || (cfg.token !== '' && sameToken(given, cfg.token)) ? 'full' : 'denied';
  }
  // The API and clips carry what was heard: the same token as the WebSocket.
  if (path.startsWith('/api/') || path.startsWith('/clips/')) return authorized(req, cfg) ? 'full' : 'denied';
  if (path !== '/healthz' || authorized(req, cfg)) return 'full';
  return cfg.publicHealth === 'full' ? 'full' : cfg.publicHealth === 'status' ? 'status' : 'denied';
}

/** The one error every 401 carries (HTTP routes and WebSocket upgrades alike). */
export function authFailed(what: string): EarshotError {
  return new EarshotError('AUTH_FAILED', `${what} needs the token: send Authorization: Bearer <token> or ?token=<token>`, { path: what });
}

export function sendAuthFailed(res: ServerResponse, what: string): void {
  const e = authFailed(what);
  res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' }).end(JSON.stringify({ code: e.code, message: e.message }));
}
