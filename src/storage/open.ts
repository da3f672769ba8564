import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { StorageConfig } from '../config/sections/storage.js';
import { EarshotError } from '../errors.js';
import type { Storage } from './contracts.js';
import { localStorage } from './local.js';
import { s3Storage, type S3StorageOptions } from './s3.js';

/**
 * Opens `file:///abs/dir`, a plain path (relative paths resolve against the
 * process cwd, which only the CLI should rely on) or `s3://bucket/prefix`
 * (endpoint, region, path style and keys from `cfg.s3`; empty ones fall back
 * to the AWS SDK's standard environment chain).
 */
export function openStorage(url: string, cfg: StorageConfig, opts: { s3?: S3StorageOptions } = {}): Storage {
  if (url.startsWith('s3://')) return s3Storage(url, cfg, opts.s3);
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
  return localStorage(resolve(url));
}
