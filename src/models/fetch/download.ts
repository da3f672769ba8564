import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, renameSync, rmSync, statSync } from 'node:fs';

import { EarshotError } from '../../errors.js';

/**
 * Resumable, verified HTTP download. Bytes stream into `<dest>.part` as they
 * arrive, so an interrupted transfer (crash, kill, network drop) resumes with an
 * HTTP Range request; the file is renamed to `dest` only after every expected
 * digest matches. A digest mismatch deletes the .part: resuming a corrupt prefix
 * could never succeed.
 */
export interface Digests {
  readonly sha256?: string;
  readonly md5?: string;
}

export interface DownloadOptions {
  readonly url: string;
  readonly dest: string;
  readonly expected: Digests;
  readonly onProgress?: (doneBytes: number, totalBytes: number | undefined) => void;
  readonly signal?: AbortSignal;
  /** Injected for tests; defaults to the global fetch. */
  readonly fetchImpl?: typeof fetch;
}

export interface DownloadResult {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  readonly md5: string;
  /** Bytes already present in the .part file when this call started (0 = fresh). */
  readonly resumedFrom: number;
  /** True when `dest` already existed with the expected digests. */
  readonly cached: boolean;
}

export async function digestFile(path: string): Promise<{ sha256: string; md5: string }> {
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 8 << 20 })) {
    sha.update(chunk as Buffer);
    md5.update(chunk as Buffer);
  }
  return { sha256: sha.digest('hex'), md5: md5.digest('hex') };
}

function mismatch(d: { sha256: string; md5: string }, expected: Digests): string | undefined {
  if (expected.sha256 && d.sha256 !== expected.sha256.toLowerCase()) return `sha256 ${d.sha256}, expected ${expected.sha256}`;
  if (expected.md5 && d.md5 !== expected.md5.toLowerCase()) return `md5 ${d.md5}, expected ${expected.md5}`;
  return undefined;
}

function failed(url: string, msg: string, cause?: unknown): EarshotError {
  return new EarshotError('DOWNLOAD_FAILED', `${url}: ${msg}`, { url }, cause === undefined ? undefined : { cause });
}

/** Parses a Content-Range header: "bytes a-b/total", or "bytes [star]/total" on a 416. */
function contentRange(h: string | null): { start: number; total: number | undefined } | undefined {
  const m = h ? /^bytes (?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(h.trim()) : null;
  if (!m) return undefined;
  return { start: m[1] === undefined ? -1 : Number(m[1]), total: m[2] === '*' ? undefined : Number(m[2]) };
}

async function append(body: ReadableStream<Uint8Array>, part: string, fresh: boolean, start: number, total: number | undefined, opts: DownloadOptions): Promise<number> {
  const out = createWriteStream(part, { flags: fresh ? 'w' : 'a' });
  let done = start;
  try {
    const reader = body.getReader();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      if (!out.write(value)) await new Promise<void>((r) => out.once('drain', () => r()));
      done += value.length;
      opts.onProgress?.(done, total);
    }
  } finally {
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }
  return done;
}

export async function download(opts: DownloadOptions): Promise<DownloadResult> {
  const { url, dest, expected } = opts;
  if (!expected.sha256 && !expected.md5) throw failed(url, 'refusing to download without an expected checksum');
  if (existsSync(dest)) {
    const d = await digestFile(dest);
    if (!mismatch(d, expected)) return { path: dest, bytes: statSync(dest).size, ...d, resumedFrom: 0, cached: true };
  }
  const part = `${dest}.part`;
  const have = existsSync(part) ? statSync(part).size : 0;
  const doFetch = opts.fetchImpl ?? fetch;
  let res: Response;
  try {
    res = await doFetch(url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (e) {
    throw failed(url, `request failed: ${(e as Error).message}`, e);
  }
  let fresh = true;
  let start = 0;
  let total: number | undefined;
  if (res.status === 206) {
    const cr = contentRange(res.headers.get('content-range'));
    if (!cr || cr.start !== have) {
      await res.body?.cancel();
      throw failed(url, `server answered Range bytes=${have}- with Content-Range ${res.headers.get('content-range') ?? '(none)'}`);
    }
    fresh = false;
    start = have;
    total = cr.total;
  } else if (res.status === 416 && have > 0) {
    await res.body?.cancel();
    // The .part may already be complete (killed between the last byte and the rename).
    const cr = contentRange(res.headers.get('content-range'));
    if (cr?.total !== have) {
      rmSync(part, { force: true });
      return download(opts);
    }
    fresh = false;
    start = have;
    total = have;
  } else if (res.ok) {
    const len = res.headers.get('content-length');
    total = len === null ? undefined : Number(len);
  } else {
    await res.body?.cancel();
    throw failed(url, `HTTP ${res.status} ${res.statusText}`);
  }
  let got = start;
  if (res.status !== 416) {
    if (!res.body) throw failed(url, 'response has no body');
    try {
      got = await append(res.body, part, fresh, start, total, opts);
    } catch (e) {
      throw failed(url, `transfer interrupted after ${existsSync(part) ? statSync(part).size : 0} bytes (rerun to resume): ${(e as Error).message}`, e);
    }
  }
  if (total !== undefined && got !== total) throw failed(url, `transfer ended at ${got} of ${total} bytes (rerun to resume)`);
  const d = await digestFile(part);
  const bad = mismatch(d, expected);
  if (bad) {
    rmSync(part, { force: true });
    throw new EarshotError('MODEL_CHECKSUM_MISMATCH', `${url}: downloaded file has ${bad}; deleted it`, { url, file: dest, ...d });
  }
  renameSync(part, dest);
  return { path: dest, bytes: got, ...d, resumedFrom: fresh ? 0 : start, cached: false };
}
