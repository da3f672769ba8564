import type { IncomingMessage } from 'node:http';

/**
 * Cross-site WebSocket hijacking guard. Browsers always send Origin on a WebSocket
 * upgrade and let any page open one, so without this check a page on any site could
 * read the live tags of a daemon on loopback with no token. Non-browser clients send
 * no Origin and are allowed; `null` (sandboxed frames, file://) is refused unless listed.
 */
export function originAllowed(req: IncomingMessage, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowedOrigins.includes('*') || allowedOrigins.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  if (allowedOrigins.includes(url.origin)) return true;
  // Same origin: the page was served from the host:port the upgrade is addressed to.
  return req.headers.host !== undefined && url.host === req.headers.host.toLowerCase();
}
