import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

import type { Config } from '../config/schema.js';
import { EarshotError } from '../errors.js';
import type { HistoryStore, OutboxStore } from './contracts.js';
import { historyPathOf } from './paths.js';
import { isPostgresUrl, PostgresHistoryStore } from './postgres.js';
import { SqliteHistoryStore } from './sqlite.js';

/** `--db` (a file or postgres:// URL), else history.url, else the SQLite history path. */
export function historyTargetOf(config: Pick<Config, 'stateDir' | 'history'>, env: NodeJS.ProcessEnv, db?: string): string {
  if (db) return isPostgresUrl(db) ? db : resolve(db);
  return config.history.url || historyPathOf(config, env);
}

/** Opens the store a target names; a missing SQLite file is DATA_NOT_FOUND when only reading. */
export function openHistoryStore(target: string, opts: { readonly?: boolean; poolMax?: number } = {}): HistoryStore & OutboxStore {
  if (isPostgresUrl(target)) return new PostgresHistoryStore(target, opts.poolMax ? { poolMax: opts.poolMax } : {});
  if (opts.readonly && !existsSync(target))
    throw new EarshotError('DATA_NOT_FOUND', `no history database at ${target} (run the daemon or \`earshot index\` first, or pass --db FILE|postgres://…)`, { path: target });
  return new SqliteHistoryStore(target, { readonly: opts.readonly ?? false });
}
