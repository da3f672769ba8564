import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

import type { Storage } from '../storage/contracts.js';

const TYPES: Readonly<Record<string, string>> = {
  flac: 'audio/flac',
  opus: 'audio/ogg; codecs=opus',
  png: 'image/png',
  json: 'application/json',
};

/** `/clips/<id>.<ext>`; ids are [A-Za-z0-9._-] and never start with a dot (no traversal). */
const CLIP_PATH = /^\/clips\/([A-Za-z0-9_-][A-Za-z0-9._-]*)\.(flac|opus|png|json)$/;

/** One `bytes=` range of a file of `size` bytes; undefined = not satisfiable, null = no/ignored header. */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m) return null; // multi-range or another unit: serve the whole file (RFC 9110 allows ignoring Range)
  const [, a, b] = m;
  if (a === '' && b === '') return null;
  let start: number;
  let end: number;
  if (a === '') {
    const n = Number(b);
    if (n === 0) return undefined;
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(a);
    end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  }
  if (start >= size || end < start) return undefined;
  return { start, end };
}

/**
 * Serves finished clip files (and their sidecar JSON and spectrogram) from `dir`
 * with single-range support. A clip still being written has only a `.part` file,
 * so it is 404 here until it is complete. Returns false for paths it does not own;
 * the server checks the API token before calling it.
 */
export async function serveClip(dir: string, req: IncomingMessage, res: ServerResponse, path: string, storage?: Storage): Promise<boolean> {
  const m = CLIP_PATH.exec(path);
  if (!m) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' }).end(JSON.stringify({ error: 'method not allowed' }));
    return true;
  }
  const [, id, ext] = m;
  const file = join(dir, `${id}.${ext}`);
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile() && storage) return serveStored(storage, `${id}.${ext}`, TYPES[ext!]!, req, res);
  if (!st?.isFile()) {
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no clip ${id}.${ext} (unknown, deleted, or still being written)` }));
    return true;
  }
  const headers = { 'content-type': TYPES[ext!]!, 'accept-ranges': 'bytes', 'last-modified': st.mtime.toUTCString(), 'cache-control': 'private, max-age=3600' };
  const range = parseRange(req.headers.range, st.size);
  if (range === undefined) {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${st.size}` }).end();
    return true;
  }
  const { start, end } = range ?? { start: 0, end: st.size - 1 };
  const len = st.size === 0 ? 0 : end - start + 1;
  res.writeHead(range ? 206 : 200, { ...headers, 'content-length': String(len), ...(range ? { 'content-range': `bytes ${start}-${end}/${st.size}` } : {}) });
  if (req.method === 'HEAD' || len === 0) {
    res.end();
    return true;
  }
  await new Promise<void>((resolve) => {
    const s = createReadStream(file, { start, end });
    s.on('error', () => {
      res.destroy();
      resolve();
    });
    s.on('end', resolve);
    res.on('close', () => {
      s.destroy();
      resolve();
    });
    s.pipe(res);
  });
  return true;
}

/** An uploaded clip file (clips.storageUrl), with the same Range handling; 404 when the store has no such object. */
async function serveStored(storage: Storage, key: string, type: string, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  let size: number;
  try {
    size = await storage.size(key);
  } catch (e) {
    const missing = (e as { code?: string }).code === 'DATA_NOT_FOUND';
    res.writeHead(missing ? 404 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: missing ? `no clip ${key}` : `clip store unavailable: ${(e as Error).message}` }));
    return true;
  }
  const headers = { 'content-type': type, 'accept-ranges': 'bytes', 'cache-control': 'private, max-age=3600' };
  const range = parseRange(req.headers.range, size);
  if (range === undefined) {
    res.writeHead(416, { ...headers, 'content-range': `bytes */${size}` }).end();
    return true;
  }
  const { start, end } = range ?? { start: 0, end: size - 1 };
  const len = size === 0 ? 0 : end - start + 1;
  const body = req.method === 'HEAD' || len === 0 ? undefined : range ? await storage.readRange(key, start, end + 1) : await storage.read(key);
  res.writeHead(range ? 206 : 200, { ...headers, 'content-length': String(len), ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}) });
  res.end(body);
  return true;
}
