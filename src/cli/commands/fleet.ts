import type { Command } from 'commander';

import { EarshotError } from '../../errors.js';
import { KeywordIndex } from '../../history/keywords.js';
import { historyTargetOf, openHistoryStore } from '../../history/open.js';
import { isPostgresUrl, redactUrl } from '../../history/postgres.js';
import { ontologyPathFor } from '../../server/ontology.js';
import { action, configFrom, intFlag } from '../common.js';

/** `earshot worker`: indexes files from the `earshot index --queue` work queue into the shared history until stopped. */
function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('distributed archive indexing: take files from the NATS work queue, tag them, write them to the history')
    .requiredOption('--queue <url>', 'NATS server with JetStream (nats://host:4222)')
    .option('--db <file|url>', 'history: postgres:// URL (shared) or SQLite file (default: config history.url, history.path)')
    .option('-m, --model <dir>', 'YAMNet model directory (default: config models.yamnetDir)')
    .action(
      action(async (o: { queue: string; db?: string; model?: string }, cmd: Command) => {
        const cfg = configFrom(cmd);
        const [work, { openFileTagger }, { inProcessPool }] = await Promise.all([import('../../fleet/work.js'), import('../../history/index-tagger.js'), import('../../history/indexer.js')]);
        const url = work.requireQueueUrl(o.queue);
        const target = historyTargetOf(cfg, process.env, o.db);
        const store = openHistoryStore(target, { poolMax: 2 });
        const pool = inProcessPool(await openFileTagger(cfg, o.model ?? cfg.models.yamnetDir));
        const log = (line: string) => process.stderr.write(`${line}\n`);
        let n = 0;
        const w = await work.runIndexWorker({ fleet: cfg.fleet, url, store, pool, log, onFile: (path, outcome) => log(`worker: ${outcome} ${path} (${++n} this run)`) });
        process.stdout.write(`earshot worker on ${url} -> ${redactUrl(target)}\n`);
        const stop = () => void w.stop();
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
        await w.done;
        await w.stop();
        await pool.close();
        await store.close();
        process.exit(process.exitCode ?? 0);
      }),
    );
}

/** `earshot hub`, `earshot worker`: adapters over src/fleet. */
export function registerFleet(program: Command): void {
  registerWorker(program);
  program
    .command('push-config <file>')
    .description('push config overrides (YAML/JSON sections, e.g. events thresholds) to fleet daemons through JetStream KV; each applies them like SIGHUP')
    .requiredOption('--fleet <url>', 'NATS server with JetStream (nats://host:4222)')
    .option('--site <site>', "only this site (default: all sites; a site's own push wins over all)", 'all')
    .action(
      action(async (file: string, o: { fleet: string; site: string }) => {
        const [{ readConfigFile }, { pushConfig }, { connectForever }] = await Promise.all([import('../../config/load.js'), import('../../fleet/config-push.js'), import('../../fleet/nats.js')]);
        const obj = readConfigFile(file);
        const nc = await connectForever(o.fleet, 'earshot-push-config');
        try {
          const rev = await pushConfig(nc, o.site, obj as never);
          process.stderr.write(`pushed ${file} to ${o.site === 'all' ? 'all sites' : `site ${o.site}`} (revision ${rev})\n`);
        } finally {
          await nc.close();
        }
      }),
    );
  program
    .command('hub')
    .description("fleet hub: consume every site's events, segments and heartbeats from NATS JetStream into PostgreSQL; serve the history API")
    .requiredOption('--fleet <url>', 'NATS server(s) with JetStream, nats://host:4222 (default: config fleet.url)')
    .option('--db <url>', 'PostgreSQL history, postgres://user@host/db (default: config history.url)')
    .option('-p, --port <n>', 'HTTP port for /api/*, /healthz, /metrics (default 8765; 0 = any free port)')
    .option('--host <addr>', 'listen address (default 127.0.0.1)')
    .action(
      action(async (o: { fleet: string; db?: string; port?: string; host?: string }, cmd: Command) => {
        const cfg = configFrom(cmd, { fleet: { url: o.fleet } });
        const target = historyTargetOf(cfg, process.env, o.db);
        if (!isPostgresUrl(target))
          throw new EarshotError('INPUT_INVALID', `the hub writes a shared PostgreSQL history: pass --db postgres://… or set history.url (got '${target}')`, { flag: '--db' });
        const log = (line: string) => process.stderr.write(`${line}\n`);
        const store = openHistoryStore(target, { poolMax: cfg.history.poolMax });
        const ontology = ontologyPathFor(cfg.models.ontologyPath);
        const { startHub } = await import('../../fleet/hub.js');
        const hub = await startHub({
          fleet: cfg.fleet,
          store,
          host: o.host ?? '127.0.0.1',
          port: intFlag('--port', o.port, { min: 0, max: 65535 }) ?? 8765,
          log,
          ...(ontology ? { keywords: KeywordIndex.load(ontology) } : {}),
        });
        process.stdout.write(`earshot hub listening on http://${hub.address.host}:${hub.address.port}/ (fleet ${cfg.fleet.url}, history ${redactUrl(target)})\n`);
        await new Promise<void>((resolve) => {
          const stop = (why: string) => {
            log(`${why}: stopping`);
            void hub
              .stop()
              .then(() => store.close())
              .then(resolve);
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
        process.exit(process.exitCode ?? 0);
      }),
    );
}
