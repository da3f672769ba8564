import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EarshotError } from '../errors.js';
import type { StorageConfig } from '../config/sections/storage.js';
import type { Storage } from './contracts.js';
import { localStorage } from './local.js';

/**
 * Opens `file:///abs/dir`, a plain path (relative paths resolve against the
 * process cwd, which only the CLI should rely on) or `s3://bucket/prefix`.
 */
export function openStorage(url: string, _cfg: StorageConfig): Storage {
  if (url.startsWith('file:')) {
    let p: string;
    try {
      p = fileURLToPath(url);
    } catch (e) {
      throw new EarshotError('INPUT_INVALID', `invalid file URL ${url}`, { url }, { cause: e });
    }
    return localStorage(p.length > 1 ? p.replace(/\/+$/, '') : p);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new EarshotError('INPUT_INVALID', `unsupported storage URL scheme in ${url} (use file://, s3:// or a path)`, { url });
  }
  if (url === '') throw new EarshotError('INPUT_INVALID', 'empty storage URL', { url });
  return localStorage(isAbsolute(url) ? resolve(url) : resolve(url));
}
