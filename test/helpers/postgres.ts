import { spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';

import { freePort } from './server-process.js';

/**
 * A real PostgreSQL 15 (Debian `postgresql`) in a temp directory on 127.0.0.1 and a
 * free port: initdb + pg_ctl as user postgres (the server refuses root), trust auth,
 * fsync off (a test database, never a bench figure). `database()` makes a fresh empty
 * database per test; `stop` stops the server and removes the directory.
 *
 *   const pgs = await startPostgres(); t.after(() => pgs.stop());
 *   const url = await pgs.database();   // postgres://postgres@127.0.0.1:PORT/t_1
 */
export interface PostgresServer {
  readonly port: number;
  /** The maintenance database's URL. */
  readonly url: string;
  database(): Promise<string>;
  /** pg_ctl stop -m immediate (a crash) or fast, then start again on the same port and data. */
  restart(mode?: 'fast' | 'immediate'): void;
  stop(): Promise<void>;
}

const BIN = process.env.EARSHOT_PG_BIN ?? '/usr/lib/postgresql/15/bin';

function asPostgres(args: string[]): string {
  // root runs the server tools as postgres; as any other user, directly.
  const [cmd, argv] = process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', ...args]] : [args[0]!, args.slice(1)];
  const r = spawnSync(cmd, argv, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.error?.message ?? ''}${r.stdout}${r.stderr}`);
  return r.stdout;
}

export function postgresAvailable(): boolean {
  return spawnSync(join(BIN, 'pg_ctl'), ['--version']).status === 0;
}

export async function startPostgres(): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-pg-'));
  const data = join(dir, 'data');
  if (process.getuid?.() === 0) {
    const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(id.stdout.trim()), Number(gid.stdout.trim()));
  }
  const port = await freePort();
  asPostgres([join(BIN, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=60`;
  const start = () => asPostgres([join(BIN, 'pg_ctl'), '-D', data, '-l', join(dir, 'log'), '-o', opts, '-w', '-t', '60', 'start']);
  start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let n = 0;
  let stopped = false;
  return {
    port,
    url,
    async database() {
      const name = `t_${++n}`;
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    restart(mode = 'fast') {
      asPostgres([join(BIN, 'pg_ctl'), '-D', data, '-m', mode, '-w', 'stop']);
      start();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      try {
        asPostgres([join(BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
