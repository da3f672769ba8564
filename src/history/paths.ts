import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

import type { Config } from '../config/schema.js';

/** `stateDir`, else $STATE_DIRECTORY (systemd StateDirectory=, first entry), else ~/.local/state/earshot. */
export function stateDirOf(config: Pick<Config, 'stateDir'>, env: NodeJS.ProcessEnv): string {
  if (config.stateDir) return resolve(config.stateDir);
  const sd = env.STATE_DIRECTORY?.split(':')[0];
  if (sd) return resolve(sd);
  return join(env.HOME || homedir(), '.local', 'state', 'earshot');
}

/** `history.path`, else `<stateDir>/history.sqlite`; the CLI's `--db FILE` overrides both. */
export function historyPathOf(config: Pick<Config, 'stateDir' | 'history'>, env: NodeJS.ProcessEnv): string {
  return config.history.path ? resolve(config.history.path) : join(stateDirOf(config, env), 'history.sqlite');
}
