import type { Command } from 'commander';
import { action, configFrom, intFlag } from '../common.js';
import { EarshotError } from '../../errors.js';
import { historyTargetOf, openHistoryStore } from '../../history/open.js';
import { isPostgresUrl, redactUrl } from '../../history/postgres.js';
import { KeywordIndex } from '../../history/keywords.js';
import { ontologyPathFor } from '../../server/ontology.js';

/** `earshot hub`: adapters over src/fleet. */
export function registerFleet(program: Command): void {
  program
    .command('hub')
    .description('fleet hub: consume every site\'s events, segments and heartbeats from NATS JetStream into PostgreSQL; serve the history API')
    .requiredOption('--fleet <url>', 'NATS server(s) with JetStream, nats://host:4222 (default: config fleet.url)')
    .option('--db <url>', 'PostgreSQL history, postgres://user@host/db (default: config history.url)')
    .option('-p, --port <n>', 'HTTP port for /api/*, /healthz, /metrics (default 8765; 0 = any free port)')
    .option('--host <addr>', 'listen address (default 127.0.0.1)')
    .action(
      action(async (o: { fleet: string; db?: string; port?: string; host?: string }, cmd: Command) => {
        const cfg = configFrom(cmd, { fleet: { url: o.fleet } });
        const target = historyTargetOf(cfg, process.env, o.db);
        if (!isPostgresUrl(target)) throw new EarshotError('INPUT_INVALID', `the hub writes a shared PostgreSQL history: pass --db postgres://… or set history.url (got '${target}')`, { flag: '--db' });
        const log = (line: string) => process.stderr.write(`${line}\n`);
        const store = openHistoryStore(target, { poolMax: cfg.history.poolMax });
        const ontology = ontologyPathFor(cfg.models.ontologyPath);
        const { startHub } = await import('../../fleet/hub.js');
        const hub = await startHub({
          fleet: cfg.fleet, store, host: o.host ?? '127.0.0.1', port: intFlag('--port', o.port, { min: 0, max: 65535 }) ?? 8765, log,
          ...(ontology ? { keywords: KeywordIndex.load(ontology) } : {}),
        });
        process.stdout.write(`earshot hub listening on http://${hub.address.host}:${hub.address.port}/ (fleet ${cfg.fleet.url}, history ${redactUrl(target)})\n`);
        await new Promise<void>((resolve) => {
          const stop = (why: string) => {
            log(`${why}: stopping`);
            void hub.stop().then(() => store.close()).then(resolve);
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
        process.exit(process.exitCode ?? 0);
      }),
    );
}
