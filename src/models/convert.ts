import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { ModelManifest } from './contracts.js';
import { readModelDir, writeModelDir } from './modeldir.js';
import type { WeightDtype } from './weight-dtypes.js';

const OWN = new Set(['manifest.json', 'weights.bin', 'labels.csv']);

/**
 * Rewrites a model directory with its weights stored as `dtype` (same graph, labels and
 * other files; the compiled-graph cache is not carried over). Engines still compute in
 * float32: only the stored values change (rounded to float16, or int8 per channel).
 */
export function convertModelDir(src: string, out: string, dtype: WeightDtype): ModelManifest {
  const md = readModelDir(src);
  const { format: _f, formatVersion: _v, weights: _w, labels: _l, ...fields } = md.manifest;
  // Read everything before writing: `out` may be `src` itself.
  const extra: Record<string, Uint8Array> = {};
  for (const name of readdirSync(src)) {
    const p = join(src, name);
    if (!OWN.has(name) && statSync(p).isFile()) extra[name] = new Uint8Array(readFileSync(p));
  }
  const weights = new Map([...md.weights].map(([k, v]) => [k, { shape: v.shape, data: v.data.slice() }]));
  return writeModelDir(out, { ...fields, provenance: { ...(fields.provenance ?? {}), weightsStoredAs: dtype } }, weights, md.labels.length > 0 ? md.labels : undefined, extra, dtype);
}
