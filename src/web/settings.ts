import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';

import { stringify } from 'yaml';

import type { LabelInfo } from '../classify/contracts.js';
import { parseOverrides, type SettingsOverrides } from '../config/overrides.js';
import type { Config } from '../config/schema.js';
import { EarshotError, toEarshotError } from '../errors.js';

export interface SettingsDeps {
  /** The running config. */
  config(): Config;
  labelsBySource(): ReadonlyMap<string, readonly LabelInfo[]>;
  /** Applies a config (the daemon's reload: validates every source first, throws CONFIG_INVALID). */
  reload(next: Config): void;
  /** The overrides file next to the config; absent = no config file, settings are read-only. */
  readonly overridesPath?: string;
  /** Re-reads config file + overrides file + env + flags (the SIGHUP path). */
  readonly reread?: () => Config;
}

const SECRET = /(token|password|secret|apikey|api_key|credentials)$/i;

/** The config with secrets masked: token-like keys and passwords inside URLs. */
export function maskSecrets(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => maskSecrets(x));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskSecrets(x, k)]));
  if (typeof v === 'string') {
    if (SECRET.test(key) || /^(secret|key)$/i.test(key)) return v === '' ? '' : '********';
    return v.replace(/(\/\/[^/:@\s]*:)[^@/\s]+@/g, '$1********@');
  }
  return v;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > limit) throw new EarshotError('INPUT_INVALID', `request body exceeds ${limit} bytes`);
    parts.push(c);
  }
  return Buffer.concat(parts).toString('utf8');
}

async function currentOverrides(path: string | undefined): Promise<SettingsOverrides> {
  if (!path) return {};
  try {
    return parseOverrides((await import('yaml')).parse(await readFile(path, 'utf8')), `overrides file ${path}`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
}

/**
 * GET /api/settings: the effective config (secrets masked), the overrides and where they live.
 * PUT /api/settings: replaces the overrides (JSON, docs/api.md), persists them, applies them live.
 */
export function settingsRoute(deps: SettingsDeps) {
  let writing: Promise<unknown> = Promise.resolve();
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      if (req.method === 'GET') {
        const cfg = deps.config();
        return send(res, 200, {
          config: maskSecrets(cfg),
          overrides: await currentOverrides(deps.overridesPath),
          overridesPath: deps.overridesPath ?? null,
          editable: Boolean(deps.overridesPath && deps.reread),
          sources: cfg.sources.map((s) => ({ id: s.id, labels: deps.labelsBySource().get(s.id)?.length ?? 0 })),
        });
      }
      if (req.method !== 'PUT') return send(res, 405, { error: `${req.method} not allowed; use GET or PUT` });
      if (!deps.overridesPath || !deps.reread) {
        return send(res, 409, { error: 'settings are read-only: the daemon was started without a config file (--config), so there is nowhere to persist them', code: 'CONFIG_INVALID' });
      }
      let raw: unknown;
      const text = await readBody(req, 256 * 1024);
      try {
        raw = JSON.parse(text);
      } catch {
        throw new EarshotError('INPUT_INVALID', `body is not JSON: ${JSON.stringify(text.slice(0, 80))}`);
      }
      const ov = parseOverrides(raw, 'settings');
      const path = deps.overridesPath;
      const reread = deps.reread;
      // One write at a time: two tabs saving at once must not interleave file and reload.
      const job = writing.then(async () => {
        const before = await readFile(path, 'utf8').catch(() => undefined);
        const tmp = `${path}.tmp-${process.pid}`;
        await writeFile(tmp, `# written by the earshot dashboard (PUT /api/settings); laid over the config file\n${stringify(ov)}`);
        await rename(tmp, path);
        try {
          deps.reload(reread());
        } catch (e) {
          if (before === undefined) await rm(path, { force: true });
          else await writeFile(path, before);
          throw e;
        }
      });
      writing = job.catch(() => undefined);
      await job;
      send(res, 200, { overrides: ov, overridesPath: path, applied: true });
    } catch (e) {
      const err = toEarshotError(e);
      const status = err.code === 'INPUT_INVALID' || err.code === 'CONFIG_INVALID' ? 400 : 500;
      send(res, status, { error: err.message, code: err.code });
    }
  };
}
