import { EarshotError } from '../errors.js';
import type { Storage } from './contracts.js';
import { checkKey, checkPrefix, checkRange } from './keys.js';
import { compareKeys } from './local.js';

/**
 * In-process Storage (a Map of copies). Same contract as the local and S3
 * backends; for tests, fuzzing and tools that stage data without touching disk.
 */
export function memoryStorage(name = 'mem'): Storage {
  const url = `memory://${name}`;
  const objects = new Map<string, Buffer>();
  const get = (key: string, op: string): Buffer => {
    const b = objects.get(checkKey(key, url));
    if (b === undefined) throw new EarshotError('DATA_NOT_FOUND', `${url}/${key} not found (${op})`, { url, key, op });
    return b;
  };
  return {
    url,
    async list(prefix = '') {
      checkPrefix(prefix, url);
      return [...objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareKeys);
    },
    async read(key) {
      return Buffer.from(get(key, 'read'));
    },
    async readRange(key, start, end) {
      checkRange(key, start, end, url);
      const b = get(key, 'readRange');
      return Buffer.from(b.subarray(Math.min(start, b.length), Math.min(end, b.length)));
    },
    async size(key) {
      return get(key, 'size').length;
    },
    async exists(key) {
      return objects.has(checkKey(key, url));
    },
    async writeAtomic(key, data) {
      objects.set(checkKey(key, url), Buffer.from(data));
    },
    async delete(key) {
      objects.delete(checkKey(key, url));
    },
  };
}
