import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { HttpRoute } from '../server/server.js';
import type { DashboardAsset } from './contracts.js';
import { type SettingsDeps, settingsRoute } from './settings.js';

export type { SettingsDeps } from './settings.js';

/** src/web/static next to this module (tsx), or beside dist/ in the package (`files` ships src/web/static). */
export function staticDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'static'), join(here, '..', '..', 'src', 'web', 'static')];
  const found = candidates.find((d) => existsSync(join(d, 'index.html')));
  if (!found) throw new Error(`dashboard assets not found in ${candidates.join(' or ')}`);
  return found;
}

const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8', html: 'text/html; charset=utf-8', svg: 'image/svg+xml' };

/** The libraries the page imports, resolved from node_modules (dependencies, so `npm ci` of the tarball has them). */
export function vendorFiles(): Record<string, string> {
  const require = createRequire(import.meta.url);
  const dir = (m: string) => dirname(require.resolve(m));
  return {
    'preact.js': join(dir('preact'), 'preact.module.js'),
    'hooks.js': join(dir('preact/hooks'), 'hooks.module.js'),
    'htm.js': join(dir('htm'), 'htm.module.js'),
    'uplot.js': join(dir('uplot'), 'uPlot.iife.min.js'),
    'uplot.css': join(dir('uplot'), 'uPlot.min.css'),
  };
}

/** Every asset the page loads, by URL path (the bench sums them for the bundle size). */
export function assetPaths(): Map<string, string> {
  const out = new Map<string, string>();
  const dir = staticDir();
  for (const f of ['index.html']) out.set('/', join(dir, f));
  for (const f of ['app.js', 'live.js', 'history.js', 'settings.js', 'util.js', 'style.css']) out.set(`/ui/${f}`, join(dir, f));
  for (const [name, path] of Object.entries(vendorFiles())) out.set(`/vendor/${name}`, path);
  return out;
}

/**
 * The page makes no request beyond its own origin (edge boxes are often offline); the one
 * inline script, the import map, is allowed by its hash.
 */
export function pagePolicy(indexHtml: Buffer): string {
  const m = /<script type="importmap">([\s\S]*?)<\/script>/.exec(indexHtml.toString('utf8'));
  const hash = m ? ` 'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'` : '';
  return `default-src 'self'; script-src 'self'${hash}; connect-src 'self' ws: wss:; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'`;
}

/**
 * The dashboard's routes: `/` (the page), `/ui/*` and `/vendor/*` (public, immutable per
 * process, cached in memory), and the token-protected `/api/settings`.
 */
export function webRoutes(settings: SettingsDeps): Map<string, HttpRoute> {
  const paths = assetPaths();
  const cache = new Map<string, Promise<DashboardAsset>>();
  const load = (url: string): Promise<DashboardAsset> | undefined => {
    const file = paths.get(url);
    if (!file) return undefined;
    let p = cache.get(url);
    if (!p) {
      p = readFile(file).then((body) => ({ body, type: TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream' }));
      p.catch(() => cache.delete(url));
      cache.set(url, p);
    }
    return p;
  };
  const serve = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const key = url.pathname === '/index.html' ? '/' : url.pathname;
    const asset = load(key);
    if (!asset) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'application/json', allow: 'GET, HEAD' }).end(JSON.stringify({ error: `${req.method} not allowed` }));
      return true;
    }
    const a = await asset;
    res.writeHead(200, {
      'content-type': a.type,
      'content-length': a.body.length,
      'cache-control': 'no-cache',
      ...(key === '/' ? { 'content-security-policy': pagePolicy(a.body) } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : a.body);
    return true;
  };
  return new Map<string, HttpRoute>([
    ['/', serve],
    ['/index.html', serve],
    ['/ui/', serve],
    ['/vendor/', serve],
    ['/api/settings', settingsRoute(settings)],
  ]);
}
