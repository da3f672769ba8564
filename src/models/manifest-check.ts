import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';

import { z } from 'zod';

import { formatIssues } from '../config/load.js';
import { EarshotError } from '../errors.js';
import type { ModelManifest } from './contracts.js';

const tensor = z.object({ name: z.string().min(1), shape: z.array(z.number().int().min(0).max(2 ** 31)).max(8) }).passthrough();
/** input/output shapes may carry -1 for the batch dimension. */
const ioTensor = z.object({ name: z.string().min(1), shape: z.array(z.number().int().min(-1).max(2 ** 31)).max(8) }).passthrough();

const manifestSchema = z
  .object({
    format: z.literal('earshot-model'),
    formatVersion: z.literal(1),
    weights: z
      .object({
        file: z.string().min(1),
        sha256: z.string(),
        tensors: z.array(tensor.extend({ offsetBytes: z.number().int().min(0).multipleOf(4, 'offsetBytes must be a multiple of 4 (float32)') })),
      })
      .passthrough(),
    input: ioTensor.optional(),
    outputs: z.array(ioTensor).optional(),
    labels: z.object({ file: z.string().min(1), count: z.number().int().min(0) }).passthrough().optional(),
    extras: z.record(z.string(), z.string().min(1)).optional(),
  })
  .passthrough();

/**
 * Validates a parsed manifest.json: types and ranges (a negative offset or shape is a bad
 * model, not an internal error), and that every file it names stays inside the model
 * directory after symlinks, so a downloaded model cannot make earshot read /etc/passwd.
 */
export function checkManifest(raw: unknown, dir: string, path: string): ModelManifest {
  const r = manifestSchema.safeParse(raw);
  if (!r.success) {
    // Only the format check keeps its old wording: a foreign JSON file is not an earshot manifest at all.
    const obj = (raw ?? {}) as { format?: unknown; formatVersion?: unknown };
    if (obj.format !== 'earshot-model' || obj.formatVersion !== 1) {
      throw new EarshotError('MODEL_INVALID', `${path}: not an earshot model manifest (format ${String(obj.format)} v${String(obj.formatVersion)})`, { dir });
    }
    throw new EarshotError('MODEL_INVALID', `${path}: ${formatIssues(r.error, raw)}`, { dir });
  }
  const m = r.data;
  const files: [string, string][] = [['weights.file', m.weights.file]];
  if (m.labels) files.push(['labels.file', m.labels.file]);
  for (const [k, v] of Object.entries(m.extras ?? {})) files.push([`extras.${k}`, v]);
  const root = realpathSync(dir);
  for (const [key, rel] of files) {
    const full = resolve(root, rel);
    const real = existsSync(full) ? realpathSync(full) : full;
    if (isAbsolute(rel) || !real.startsWith(root + sep)) {
      throw new EarshotError('MODEL_INVALID', `${path}: ${key} "${rel}" resolves outside the model directory ${root}`, { dir, key, file: rel });
    }
  }
  return m as unknown as ModelManifest;
}
