import { EarshotError } from '../errors.js';

/**
 * Keys are '/'-separated relative paths. Rejecting '..', absolute and empty
 * segments here keeps a key from ever escaping the storage root, whatever the
 * backend (a local path join or an S3 key under a prefix).
 */
export function checkKey(key: string, url: string): string {
  const bad = key.length === 0 || key.startsWith('/') || key.includes('\\') || key.includes('\0') || key.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) throw new EarshotError('INPUT_INVALID', `invalid storage key ${JSON.stringify(key)} for ${url}`, { key, url });
  return key;
}

/** A list prefix may be empty or end with '/'; it follows the same segment rules otherwise. */
export function checkPrefix(prefix: string, url: string): string {
  if (prefix === '') return prefix;
  const trimmed = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  checkKey(trimmed, url);
  return prefix;
}

export function checkRange(key: string, start: number, end: number, url: string): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new EarshotError('INPUT_INVALID', `invalid byte range [${start}, ${end}) for ${url}/${key}`, { key, url, start, end });
  }
}
