/**
 * How models and reports name their data: the dataset's path relative to its data root
 * (AudioSet's `<root>/features/<split>`) plus a content hash, never the URL of the machine
 * that trained them. The hash covers what training actually saw (clip ids, labels and the
 * packed uint8 embeddings), so two copies of the same data anywhere hash the same.
 */
import { createHash } from 'node:crypto';

export interface DataRef {
  readonly dataset: string;
  /** Relative to the data root, e.g. `features/bal_train`. */
  readonly path: string;
  readonly clips: number;
  /** sha256 over clip ids, labels and packed embeddings, in load order. */
  readonly sha256: string;
}

/** `features/<split>` for an AudioSet tree, else the last path segment. */
export function relativeDataPath(url: string): string {
  const segs = url
    .replace(/[?#].*$/, '')
    .split('/')
    .filter(Boolean);
  const i = segs.lastIndexOf('features');
  return i >= 0 && i < segs.length - 1 ? segs.slice(i).join('/') : (segs.at(-1) ?? url);
}

export function contentHash(videoIds: readonly string[], y: Uint8Array, x: Uint8Array): string {
  const h = createHash('sha256');
  h.update(videoIds.join('\n'));
  h.update(y);
  h.update(x);
  return h.digest('hex');
}

export function dataRef(url: string, d: { count: number; x: Uint8Array; y: Uint8Array; videoIds: readonly string[] }): DataRef {
  return { dataset: 'AudioSet embeddings (VGGish, 128-d, uint8)', path: relativeDataPath(url), clips: d.count, sha256: contentHash(d.videoIds, d.y, d.x) };
}
