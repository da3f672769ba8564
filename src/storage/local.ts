import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { EarshotError } from '../errors.js';
import type { Storage } from './contracts.js';
import { checkKey, checkPrefix, checkRange } from './keys.js';

/** Temp files of in-flight atomic writes; never listed, so readers never see a partial object. */
const TMP_MARK = '.earshot-tmp-';

function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function fail(e: unknown, op: string, url: string, key: string): EarshotError {
  if (e instanceof EarshotError) return e;
  const code = errnoOf(e);
  // A write that meets ENOENT could not create its directory (Node's recursive mkdir reports a
  // read-only or unwritable parent so): a storage failure, not missing data.
  if (op !== 'writeAtomic' && (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR')) {
    return new EarshotError('DATA_NOT_FOUND', `${url}/${key} not found (${op})`, { url, key, op }, { cause: e });
  }
  const msg = e instanceof Error ? e.message : String(e);
  return new EarshotError('STORAGE_FAILED', `${op} ${url}/${key} failed: ${msg}`, { url, key, op, errno: code }, { cause: e });
}

async function walk(root: string, rel: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(join(root, rel), { withFileTypes: true });
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return;
    throw e;
  }
  for (const ent of entries) {
    if (ent.name.startsWith(TMP_MARK)) continue;
    const child = rel === '' ? ent.name : `${rel}/${ent.name}`;
    if (ent.isDirectory()) await walk(root, child, out);
    else if (ent.isFile()) out.push(child);
  }
}

/** Storage over a local directory; `root` is an absolute path. */
export function localStorage(root: string): Storage {
  const url = pathToFileURL(root).href;
  const pathOf = (key: string): string => join(root, ...checkKey(key, url).split('/'));

  return {
    url,
    async list(prefix = '') {
      checkPrefix(prefix, url);
      // Only descend into the directory part of the prefix; filter the rest by string prefix like S3 does.
      const dirPart = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
      const out: string[] = [];
      try {
        await walk(root, dirPart, out);
      } catch (e) {
        throw fail(e, 'list', url, prefix);
      }
      return out.filter((k) => k.startsWith(prefix)).sort(compareKeys);
    },
    async read(key) {
      try {
        return await readFile(pathOf(key));
      } catch (e) {
        throw fail(e, 'read', url, key);
      }
    },
    async readRange(key, start, end) {
      checkRange(key, start, end, url);
      const p = pathOf(key);
      let fh;
      try {
        fh = await open(p, 'r');
      } catch (e) {
        throw fail(e, 'readRange', url, key);
      }
      try {
        const size = (await fh.stat()).size;
        const stop = Math.min(end, size);
        if (stop <= start) return Buffer.alloc(0);
        const buf = Buffer.allocUnsafe(stop - start);
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await fh.read(buf, got, buf.length - got, start + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return got === buf.length ? buf : buf.subarray(0, got);
      } catch (e) {
        throw fail(e, 'readRange', url, key);
      } finally {
        await fh.close();
      }
    },
    async size(key) {
      try {
        const st = await stat(pathOf(key));
        if (!st.isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
        return st.size;
      } catch (e) {
        throw fail(e, 'size', url, key);
      }
    },
    async exists(key) {
      try {
        return (await stat(pathOf(key))).isFile();
      } catch (e) {
        if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR') return false;
        throw fail(e, 'exists', url, key);
      }
    },
    async writeAtomic(key, data) {
      const p = pathOf(key);
      const dir = dirname(p);
      const tmp = join(dir, `${TMP_MARK}${randomBytes(6).toString('hex')}`);
      try {
        await mkdir(dir, { recursive: true });
        const fh = await open(tmp, 'wx', 0o644);
        try {
          await fh.writeFile(data);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, p);
        await syncDir(dir);
      } catch (e) {
        await unlink(tmp).catch(() => undefined);
        throw fail(e, 'writeAtomic', url, key);
      }
    },
    async delete(key) {
      try {
        await unlink(pathOf(key));
      } catch (e) {
        if (errnoOf(e) === 'ENOENT') return;
        throw fail(e, 'delete', url, key);
      }
    },
  };
}

/** The rename is durable only once the directory entry is flushed too. */
async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    // Some filesystems refuse fsync on directories; the rename itself is still atomic.
    if (errnoOf(e) !== 'EINVAL' && errnoOf(e) !== 'EISDIR') throw e;
  } finally {
    await fh.close();
  }
}

/** Byte-wise (UTF-16 code unit) order: the same order S3 ListObjectsV2 uses for ASCII keys. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
