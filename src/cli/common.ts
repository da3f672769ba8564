import type { Command } from 'commander';
import { loadConfig, type ConfigObject } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { toEarshotError } from '../errors.js';

/** Exit codes: 0 ok, 1 internal failure, 2 bad input/config (EarshotError other than INTERNAL). */
export function exitCodeFor(e: unknown): number {
  const err = toEarshotError(e);
  return err.code === 'INTERNAL' ? 1 : 2;
}

/** Wraps a command action so every failure prints `error [CODE]: message` and sets the exit code. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<void> | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const err = toEarshotError(e);
      process.stderr.write(`error [${err.code}]: ${err.message}\n`);
      if (process.env.EARSHOT_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`);
      process.exitCode = exitCodeFor(err);
    }
  };
}

/** Global options live on the root program; commands read them through this. */
export function configFrom(cmd: Command, overrides?: ConfigObject): Config {
  const root = cmd.optsWithGlobals() as { config?: string };
  return loadConfig({ file: root.config, overrides });
}
