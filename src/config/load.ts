import { existsSync, readFileSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';

import { EarshotError } from '../errors.js';
import { applyOverrides, overridesPathFor, readOverrides } from './overrides.js';
import { type Config, configSchema } from './schema.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const ENV_PREFIX = 'EARSHOT__';

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge; arrays and scalars from `over` replace those in `base`. */
export function mergeConfig(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isObj(b) && isObj(v) ? mergeConfig(b, v) : v;
  }
  return out;
}

function parseEnvValue(raw: string): Json {
  try {
    return JSON.parse(raw) as Json;
  } catch {
    return raw;
  }
}

/**
 * `EARSHOT__SERVER__PORT=9000` sets server.port. Path segments match schema keys
 * case-insensitively, so upper-case env names work for camelCase fields.
 */
export function envOverrides(env: NodeJS.ProcessEnv, defaults: Obj): Obj {
  const out: Obj = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const segs = name.slice(ENV_PREFIX.length).split('__');
    let shape: Json = defaults;
    let target: Obj = out;
    segs.forEach((seg, i) => {
      const keys = isObj(shape) ? Object.keys(shape) : [];
      const key = keys.find((k) => k.toLowerCase() === seg.toLowerCase()) ?? seg;
      if (i === segs.length - 1) {
        // A string-typed key takes the text as is: a token `123` or `1e3` must not become a number.
        target[key] = isObj(shape) && typeof shape[key] === 'string' ? raw : parseEnvValue(raw);
      } else {
        const next = isObj(target[key]) ? (target[key] as Obj) : {};
        target[key] = next;
        target = next;
        shape = isObj(shape) ? (shape[key] ?? null) : null;
      }
    });
  }
  return out;
}

function describeValue(input: unknown, path: PropertyKey[]): string {
  let v: unknown = input;
  for (const p of path) v = isObj(v) || Array.isArray(v) ? (v as Record<PropertyKey, unknown>)[p] : undefined;
  if (v === undefined) return '(missing)';
  // A pasted blob must not turn one error line into megabytes.
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 200 ? `${text.slice(0, 200)}… (${text.length} chars)` : text;
}

export function formatIssues(error: z.ZodError, input: unknown): string {
  return error.issues
    .map((i) => {
      const field = i.path.map(String).join('.') || '(root)';
      return `${field}: ${i.message} (got ${describeValue(input, i.path)})`;
    })
    .join('; ');
}

/** Validate a plain object into a frozen Config, or throw CONFIG_INVALID naming each bad field and value. */
export function parseConfig(input: unknown): Config {
  const r = configSchema.safeParse(input);
  if (!r.success) {
    throw new EarshotError('CONFIG_INVALID', `invalid configuration: ${formatIssues(r.error, input)}`, {
      issues: r.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
    });
  }
  return deepFreeze(r.data);
}

function deepFreeze<T>(o: T): T {
  if (typeof o === 'object' && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** `a: &a [*a]` parses to an array that contains itself; merging or printing it would recurse forever. */
function isCircular(v: unknown, ancestors: Set<unknown> = new Set()): boolean {
  if (typeof v !== 'object' || v === null) return false;
  if (ancestors.has(v)) return true;
  ancestors.add(v);
  const found = Object.values(v).some((x) => isCircular(x, ancestors));
  ancestors.delete(v);
  return found;
}

export function readConfigFile(path: string): Obj {
  if (!existsSync(path)) throw new EarshotError('CONFIG_NOT_FOUND', `config file not found: ${path}`, { path });
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new EarshotError('CONFIG_INVALID', `config file ${path} is not valid YAML/JSON: ${(e as Error).message}`, { path });
  }
  if (isCircular(parsed)) throw new EarshotError('CONFIG_INVALID', `config file ${path} holds a circular YAML alias (an anchor used inside itself)`, { path });
  if (parsed === null || parsed === undefined) return {};
  if (!isObj(parsed)) throw new EarshotError('CONFIG_INVALID', `config file ${path} must hold a mapping at the top level`, { path });
  return parsed;
}

export interface LoadOptions {
  /** Config file; default: $EARSHOT_CONFIG, else none (built-in defaults). */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Highest-precedence overrides (CLI flags). */
  overrides?: Obj;
}

/** defaults < file < dashboard overrides (`<file>.overrides.yaml`, src/config/overrides.ts) < env (EARSHOT__A__B) < CLI overrides. */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const defaults = configSchema.parse({}) as unknown as Obj;
  const file = opts.file ?? env.EARSHOT_CONFIG;
  let merged: Obj = {};
  if (file) merged = applyOverrides(readConfigFile(file), readOverrides(overridesPathFor(file))) as Obj;
  merged = mergeConfig(merged, envOverrides(env, defaults));
  if (opts.overrides) merged = mergeConfig(merged, opts.overrides);
  return parseConfig(merged);
}

export type { Obj as ConfigObject };
