import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';

import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

import { EarshotError } from '../errors.js';

/**
 * The dashboard's settings overrides, persisted next to the config file
 * (`earshot.yaml` -> `earshot.overrides.yaml`): per-label thresholds and label filters,
 * globally and per source. Applied over the file, under env and CLI flags.
 */
const labelThresholds = z.record(
  z.string(),
  z
    .object({ onThreshold: z.number().min(0).max(1), offThreshold: z.number().min(0).max(1) })
    .partial()
    .strict(),
);
const eventsPart = z
  .object({ labels: labelThresholds, include: z.array(z.string()), exclude: z.array(z.string()) })
  .partial()
  .strict();

export const overridesSchema = z
  .object({
    events: eventsPart.optional(),
    /** Keyed by source id. */
    sources: z.record(z.string(), eventsPart).optional(),
  })
  .strict();

export type SettingsOverrides = z.infer<typeof overridesSchema>;

export function overridesPathFor(configFile: string): string {
  const ext = extname(configFile);
  return join(dirname(configFile), `${basename(configFile, ext)}.overrides.yaml`);
}

export function parseOverrides(raw: unknown, where: string): SettingsOverrides {
  const r = overridesSchema.safeParse(raw ?? {});
  if (!r.success) throw new EarshotError('CONFIG_INVALID', `${where}: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, { path: where });
  return r.data;
}

export function readOverrides(path: string): SettingsOverrides {
  if (!existsSync(path)) return {};
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new EarshotError('CONFIG_INVALID', `overrides file ${path} is not valid YAML: ${(e as Error).message}`, { path });
  }
  return parseOverrides(raw, `overrides file ${path}`);
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function mergeEvents(base: unknown, over: NonNullable<SettingsOverrides['events']>): Obj {
  const b = isObj(base) ? base : {};
  const labels = { ...(isObj(b.labels) ? b.labels : {}) } as Obj;
  for (const [k, v] of Object.entries(over.labels ?? {})) labels[k] = { ...(isObj(labels[k]) ? labels[k] : {}), ...v };
  return { ...b, ...(over.labels ? { labels } : {}), ...(over.include ? { include: over.include } : {}), ...(over.exclude ? { exclude: over.exclude } : {}) };
}

/** A raw config object with the overrides laid over it; sources match by id (unknown ids are ignored: a removed source). */
export function applyOverrides(config: Obj, ov: SettingsOverrides): Obj {
  const out: Obj = { ...config };
  if (ov.events) out.events = mergeEvents(config.events, ov.events);
  if (ov.sources && Array.isArray(config.sources)) {
    out.sources = config.sources.map((s: unknown) => {
      if (!isObj(s) || typeof s.id !== 'string' || !ov.sources![s.id]) return s;
      return { ...s, events: mergeEvents(s.events, ov.sources![s.id]!) };
    });
  }
  return out;
}
