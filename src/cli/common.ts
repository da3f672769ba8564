import { type Command, CommanderError } from 'commander';

import { type ConfigObject, loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { EarshotError, toEarshotError } from '../errors.js';

/** Exit codes: 0 ok, 1 internal failure, 2 bad input/config (EarshotError other than INTERNAL). */
export function exitCodeFor(e: unknown): number {
  const err = toEarshotError(e);
  return err.code === 'INTERNAL' ? 1 : 2;
}

export function printError(err: EarshotError): void {
  process.stderr.write(`error [${err.code}]: ${err.message}\n`);
  if (process.env.EARSHOT_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
}

/** Wraps a command action so every failure prints `error [CODE]: message` and sets the exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const err = toEarshotError(e);
      printError(err);
      process.exitCode = exitCodeFor(err);
    }
  };
}

/**
 * Commander's own parse errors (unknown command or option, missing argument) in the
 * CLI's `error [CODE]: message` format with exit 2; its "Did you mean …?" hint is part
 * of the message and stays. Set on the root before subcommands are added: they inherit it.
 */
export function commanderErrorsAsEarshot(program: Command): Command {
  return program
    .configureOutput({ outputError: (str, write) => write(`error [INPUT_INVALID]: ${str.replace(/^error: /, '')}`) })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
}

/** Exit status for a CommanderError thrown through exitOverride (help and version are not failures). */
export function exitCodeForCommander(e: unknown): number {
  if (!(e instanceof CommanderError)) {
    printError(toEarshotError(e));
    return exitCodeFor(e);
  }
  if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
  return e.exitCode === 0 ? 0 : 2;
}

/**
 * The one parser for numeric flags that have no config key (config-backed flags go
 * through `configFrom` overrides instead, so zod validates them like a config file).
 */
export function intFlag(flag: string, v: string | number | undefined, o: { min?: number; max?: number } = {}): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'number' ? v : v.trim() === '' ? Number.NaN : Number(v);
  const min = o.min ?? 0;
  const max = o.max ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isInteger(n) || n < min || n > max) {
    const range = o.max !== undefined ? `an integer in ${min}..${max}` : min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : `an integer >= ${min}`;
    throw new EarshotError('INPUT_INVALID', `${flag} must be ${range}, got '${v}'`, { flag, value: v });
  }
  return n;
}

/** The one parser for positive real flags with no config key (`--rate`, `--hop-seconds` where it has none). */
export function positiveFlag(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = v.trim() === '' ? Number.NaN : Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new EarshotError('INPUT_INVALID', `${flag} must be a positive number, got '${v}'`, { flag, value: v });
  return n;
}

/**
 * A flag value bound for a numeric config key: numbers become numbers, anything else
 * stays a string so the schema reports it (`expected number, received string`).
 */
export function numericOverride(v: string | undefined): number | string | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return v.trim() !== '' && Number.isFinite(n) ? n : v;
}

/** Drops undefined leaves, so an unset flag never overrides the file or env. */
export function definedOnly(o: Record<string, unknown>): ConfigObject {
  const out: ConfigObject = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const inner = definedOnly(v as Record<string, unknown>);
      if (Object.keys(inner).length) out[k] = inner;
    } else out[k] = v as ConfigObject[string];
  }
  return out;
}

/** True when `key` (dotted) is set in `o`. */
function hasKey(o: ConfigObject | undefined, key: string): boolean {
  let v: unknown = o;
  for (const k of key.split('.')) {
    if (typeof v !== 'object' || v === null || !(k in v)) return false;
    v = (v as Record<string, unknown>)[k];
  }
  return true;
}

/** The flag behind an invalid config path (`sources.0.path` -> `--source`), if a flag set that key. */
function flagFor(path: string, flags: Record<string, string>, overrides: ConfigObject | undefined): string | undefined {
  for (const [key, flag] of Object.entries(flags)) if ((path === key || path.startsWith(`${key}.`)) && hasKey(overrides, key)) return flag;
  return undefined;
}

/**
 * Global options live on the root program; commands read them through this. `flags`
 * maps config keys set from flags (`train.iterations`) to the flag (`--iterations`), so
 * a CONFIG_INVALID from an override names the flag the user typed too.
 */
export function configFrom(cmd: Command, overrides?: ConfigObject, flags: Record<string, string> = {}): Config {
  const root = cmd.optsWithGlobals() as { config?: string };
  try {
    return loadConfig({ file: root.config, overrides });
  } catch (e) {
    if (!(e instanceof EarshotError) || e.code !== 'CONFIG_INVALID') throw e;
    const issues = (e.details.issues ?? []) as Array<{ path: string }>;
    const named = issues.map((i) => flagFor(i.path, flags, overrides)).filter((f): f is string => f !== undefined);
    if (named.length === 0) throw e;
    throw new EarshotError('CONFIG_INVALID', `${e.message} (from ${[...new Set(named)].join(', ')})`, e.details, { cause: e });
  }
}
