import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import type { Worker } from 'node:worker_threads';

import type { Config } from '../config/schema.js';
import { EarshotError, type ErrorCode } from '../errors.js';
import type { Storage } from '../storage/contracts.js';
import type { HistoryStore } from './contracts.js';
import type { FileTagger, TaggedFile } from './index-tagger.js';
import { spawnWorker } from './worker-client.js';

/** Extensions `earshot index` picks up in directories (the decoder takes these in-process or via ffmpeg). */
export const AUDIO_EXTENSIONS = new Set(['.wav', '.wave', '.flac', '.mp3', '.ogg', '.oga', '.opus', '.m4a', '.aac', '.mp4', '.aif', '.aiff', '.wma', '.webm', '.mka']);

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && AUDIO_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(p);
  }
}

function globRegex(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Files under paths, directories (recursive) and globs (`*`, `**`, `?`), each once, sorted. */
export function listInputs(inputs: readonly string[]): string[] {
  const out = new Set<string>();
  for (const raw of inputs) {
    if (/^s3:\/\//i.test(raw)) {
      out.add(raw); // expanded by expandRemote (an object store listing)
      continue;
    }
    if (/^[a-z0-9]+:\/\//i.test(raw)) throw new EarshotError('INPUT_INVALID', `${raw}: index takes local paths, directories, globs and s3://bucket/prefix`, { input: raw });
    if (/[*?]/.test(raw)) {
      const abs = resolve(raw);
      const base = abs.slice(0, abs.search(/[*?]/)).split(sep).slice(0, -1).join(sep) || sep;
      const re = globRegex(abs);
      const found: string[] = [];
      try {
        walk(base, found);
      } catch {
        // a glob whose base does not exist matches nothing
      }
      for (const f of found) if (re.test(f)) out.add(f);
      continue;
    }
    const abs = resolve(raw);
    let st;
    try {
      st = statSync(abs);
    } catch {
      throw new EarshotError('AUDIO_FILE_NOT_FOUND', `${raw}: no such file or directory`, { input: raw });
    }
    if (st.isDirectory()) {
      const found: string[] = [];
      walk(abs, found);
      for (const f of found) out.add(f);
    } else out.add(abs);
  }
  return [...out].sort();
}

export function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('error', rej)
      .on('end', () => res(h.digest('hex')));
  });
}

export interface IndexProgress {
  readonly done: number;
  readonly total: number;
  readonly audioSeconds: number;
  readonly file: string;
  readonly outcome: 'indexed' | 'skipped' | 'failed';
}

export interface IndexReport {
  readonly indexed: number;
  readonly skipped: number;
  readonly failed: readonly { path: string; code: ErrorCode; message: string }[];
  readonly audioSeconds: number;
}

/** Where files get tagged: in this thread, or a pool of worker threads. */
export interface TaggerPool {
  /** `name` is the stream name stored (the s3:// URL of a staged object); default the path. */
  tag(path: string, name?: string): Promise<TaggedFile>;
  close(): Promise<void>;
}

export function inProcessPool(t: FileTagger): TaggerPool {
  return { tag: (p, name) => t.tag(p, name ?? p), close: () => t.dispose() };
}

type Reply = { id: number; ok: true; result: TaggedFile } | { id: number; ok: false; code: ErrorCode; message: string };

/** N worker threads, each with its own model; a file goes to whichever is idle. */
export function workerPool(n: number, config: Config, modelDir: string): TaggerPool {
  // Each worker runs its engine single-threaded: N workers on N cores beat one N-threaded engine on small calls.
  const cfg = { ...config, engine: { ...config.engine, threads: 1 } };
  const workers: Worker[] = Array.from({ length: n }, () => spawnWorker({ config: cfg, modelDir }, 'index-worker'));
  const idle = [...workers];
  const waiting: ((w: Worker) => void)[] = [];
  let next = 1;
  const acquire = () => new Promise<Worker>((r) => (idle.length ? r(idle.pop()!) : waiting.push(r)));
  const release = (w: Worker) => (waiting.length ? waiting.shift()!(w) : idle.push(w));
  return {
    async tag(path, name) {
      const w = await acquire();
      const id = next++;
      try {
        return await new Promise<TaggedFile>((res, rej) => {
          const onMsg = (m: Reply) => {
            if (m.id !== id) return;
            w.off('message', onMsg);
            w.off('error', onErr);
            if (m.ok) res(m.result);
            else rej(new EarshotError(m.code, m.message));
          };
          const onErr = (e: Error) => rej(new EarshotError('INTERNAL', `index worker failed: ${e.message}`));
          w.on('message', onMsg);
          w.once('error', onErr);
          w.postMessage({ id, path, name: name ?? path });
        });
      } finally {
        release(w);
      }
    },
    async close() {
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((r) => {
              w.once('exit', () => r());
              w.postMessage({ close: true });
              setTimeout(() => void w.terminate(), 5000).unref();
            }),
        ),
      );
    },
  };
}

/**
 * Indexes files into the store: unchanged files (same size, mtime and sha256) are
 * skipped, so an interrupted run resumes; a file that cannot be read or decoded is
 * reported and skipped. Writes happen here, one transaction per file.
 */
export async function indexFiles(
  files: readonly string[],
  store: HistoryStore,
  pool: TaggerPool,
  opts: { concurrency: number; onProgress?: (p: IndexProgress) => void; remote?: RemoteFiles },
): Promise<IndexReport> {
  let indexed = 0;
  let skipped = 0;
  let audioSeconds = 0;
  let done = 0;
  const failed: { path: string; code: ErrorCode; message: string }[] = [];
  let cursor = 0;
  const one = async (path: string): Promise<IndexProgress['outcome']> => {
    if (opts.remote?.has(path)) return oneRemote(path);
    try {
      const st = statSync(path);
      const prev = await store.fileState(path);
      if (prev && prev.sizeBytes === st.size && prev.mtimeMs === st.mtimeMs && prev.sha256 === (await sha256File(path))) {
        skipped++;
        audioSeconds += prev.durationSeconds;
        return 'skipped';
      }
      const sha256 = await sha256File(path);
      const r = await pool.tag(path);
      await store.putFile({ path, sizeBytes: st.size, mtimeMs: st.mtimeMs, sha256, durationSeconds: r.durationSeconds, model: r.model }, r.batch);
      indexed++;
      audioSeconds += r.durationSeconds;
      return 'indexed';
    } catch (e) {
      const err = e instanceof EarshotError ? e : new EarshotError('AUDIO_FILE_NOT_FOUND', `${path}: ${(e as Error).message}`);
      if (err.code === 'HISTORY_FULL' || err.code === 'HISTORY_FAILED') throw err;
      failed.push({ path, code: err.code, message: err.message });
      return 'failed';
    }
  };
  // An object (s3://…): downloaded to a temp file, skipped when size and sha256 match, stored under its URL.
  const oneRemote = async (url: string): Promise<IndexProgress['outcome']> => {
    let local: { path: string; sizeBytes: number; done: () => void } | undefined;
    try {
      local = await opts.remote!.fetch(url);
      const sha256 = await sha256File(local.path);
      const prev = await store.fileState(url);
      if (prev && prev.sizeBytes === local.sizeBytes && prev.sha256 === sha256) {
        skipped++;
        audioSeconds += prev.durationSeconds;
        return 'skipped';
      }
      const r = await pool.tag(local.path, url);
      await store.putFile({ path: url, sizeBytes: local.sizeBytes, mtimeMs: 0, sha256, durationSeconds: r.durationSeconds, model: r.model }, r.batch);
      indexed++;
      audioSeconds += r.durationSeconds;
      return 'indexed';
    } catch (e) {
      const err = e instanceof EarshotError ? e : new EarshotError('STORAGE_FAILED', `${url}: ${(e as Error).message}`);
      if (err.code === 'HISTORY_FULL' || err.code === 'HISTORY_FAILED') throw err;
      failed.push({ path: url, code: err.code, message: err.message });
      return 'failed';
    } finally {
      local?.done();
    }
  };
  const lane = async () => {
    while (cursor < files.length) {
      const path = files[cursor++]!;
      const outcome = await one(path);
      done++;
      opts.onProgress?.({ done, total: files.length, audioSeconds, file: path, outcome });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency) }, lane));
  return { indexed, skipped, failed, audioSeconds };
}

/** Objects named by s3:// inputs: listed up front, each downloaded when its turn comes. */
export interface RemoteFiles {
  has(name: string): boolean;
  fetch(name: string): Promise<{ path: string; sizeBytes: number; done: () => void }>;
}

/**
 * Expands s3://bucket/prefix inputs (through the storage layer: storage.s3 config or
 * AWS_* env) into one URL per audio object, recursively under the prefix. Local inputs
 * pass through. Each object is downloaded to `tmpDir` only while it is being indexed.
 */
export async function expandRemote(inputs: readonly string[], open: (url: string) => Storage, tmpDir: string): Promise<{ files: string[]; remote: RemoteFiles }> {
  const where = new Map<string, { storage: Storage; key: string }>();
  const files: string[] = [];
  for (const i of inputs) {
    if (!/^s3:\/\//i.test(i)) {
      files.push(i);
      continue;
    }
    const storage = open(i.replace(/\/+$/, ''));
    for (const key of (await storage.list()).sort()) {
      if (!AUDIO_EXTENSIONS.has(extname(key).toLowerCase())) continue;
      const url = `${storage.url.replace(/\/+$/, '')}/${key}`;
      if (!where.has(url)) files.push(url);
      where.set(url, { storage, key });
    }
  }
  let n = 0;
  return {
    files,
    remote: {
      has: (name) => where.has(name),
      async fetch(name) {
        const { storage, key } = where.get(name)!;
        const data = await storage.read(key);
        const path = join(tmpDir, `${n++}${extname(key)}`);
        writeFileSync(path, data);
        return { path, sizeBytes: data.length, done: () => rmSync(path, { force: true }) };
      },
    },
  };
}
