import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { EarshotError } from '../errors.js';

function storageFailed(e: unknown, what: string, path: string): EarshotError {
  if (e instanceof EarshotError) return e;
  const errno = typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
  return new EarshotError('STORAGE_FAILED', `cannot write ${what} ${path}: ${errno ?? (e as Error).message}${errno === 'ENOSPC' ? ' (disk full)' : ''}`, { path, errno }, { cause: e });
}

/** A sibling name readers never mistake for the target (same directory, so rename stays atomic). */
function tmpName(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/**
 * Writes a local file through a temp file, fsync and rename: the target is either the
 * old file or the complete new one, never a truncated one (ENOSPC half way). On failure
 * the temp file is removed and the error is STORAGE_FAILED naming the target.
 */
export async function writeFileAtomic(path: string, data: Uint8Array): Promise<void> {
  const tmp = tmpName(path);
  try {
    const fh = await open(tmp, 'wx', 0o644);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw storageFailed(e, 'file', path);
  }
}

/**
 * writeFileAtomic for output produced piece by piece (streamed features): the pieces go
 * to the temp file as they come, commit() fsyncs and renames, abort() removes it.
 */
export async function openFileAtomic(path: string): Promise<{ write(data: Uint8Array): Promise<void>; commit(): Promise<void>; abort(): Promise<void> }> {
  const tmp = tmpName(path);
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(tmp, 'wx', 0o644);
  } catch (e) {
    throw storageFailed(e, 'file', path);
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (!closed) ((closed = true), await fh.close());
  };
  return {
    async write(data) {
      try {
        await fh.write(data);
      } catch (e) {
        throw storageFailed(e, 'file', path);
      }
    },
    async commit() {
      try {
        await fh.sync();
        await close();
        await rename(tmp, path);
      } catch (e) {
        await close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
        throw storageFailed(e, 'file', path);
      }
    },
    async abort() {
      await close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
    },
  };
}

/** Sync twin of writeFileAtomic for code that is sync end to end (model directories). */
export function writeFileSyncDurable(path: string, data: Uint8Array | string): void {
  const fd = openSync(path, 'wx', 0o644);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Builds a directory in a temp sibling and renames it into place; a failure (disk
 * full, read-only parent) removes the temp directory and leaves any old one intact.
 */
export function writeDirAtomic(dir: string, fill: (tmp: string) => void): void {
  const tmp = tmpName(dir);
  try {
    mkdirSync(tmp, { recursive: true });
    fill(tmp);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw storageFailed(e, 'directory', dir);
  }
}
