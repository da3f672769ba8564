import { readFileSync } from 'node:fs';

import type { Command } from 'commander';

import { clipsDirOf, examplesDirOf } from '../../clips/paths.js';
import { type ConfigObject, mergeConfig } from '../../config/load.js';
import { overridesPathFor } from '../../config/overrides.js';
import { EarshotError, toEarshotError } from '../../errors.js';
import { siteOf } from '../../fleet/wire.js';
import { historyPathOf } from '../../history/paths.js';
import { createLogger } from '../../log.js';
import { defaultDaemonDeps, startDaemon } from '../../pipeline/daemon.js';
import { systemdNotifier } from '../../pipeline/notify.js';
import type { SourceOutput } from '../../pipeline/source-pipeline.js';
import { eventPayload, scoresPayload, topK } from '../../server/protocol.js';
import { action, configFrom, definedOnly, exitCodeFor, numericOverride } from '../common.js';
import { formatMessage, PRINT_MODES, type PrintMode } from '../live-format.js';
import { sourcesFromFlags } from '../sources.js';

interface RunOpts {
  source?: string[];
  model?: string;
  port?: string;
  host?: string;
  loop?: boolean;
  fast?: boolean;
  once?: boolean;
  stateDir?: string;
  fleet?: string;
  /** commander: false with --no-history. */
  history?: boolean;
  print?: string | boolean;
  printScores?: boolean;
}

/** Flags that set a config key: the schema validates them like a config file, naming the flag. */
const RUN_FLAGS: Record<string, string> = {
  sources: '--source',
  'models.yamnetDir': '--model',
  'server.port': '--port',
  'server.host': '--host',
  stateDir: '--state-dir',
};

function overridesFrom(opts: RunOpts): ConfigObject {
  return definedOnly({
    sources: opts.source?.length ? sourcesFromFlags(opts.source, { loop: opts.loop ?? false, fast: opts.fast ?? false }) : undefined,
    models: opts.model ? { yamnetDir: opts.model, tagger: 'yamnet' } : undefined,
    server: { port: numericOverride(opts.port), host: opts.host },
    stateDir: opts.stateDir,
    history: opts.history === false ? { enabled: false } : undefined,
    fleet: opts.fleet ? { url: opts.fleet } : undefined,
  });
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** `--print`: events (and with k > 0, each hop's top k labels) as protocol messages on stdout. */
function outputPrinter(mode: PrintMode, k: number): (o: SourceOutput) => void {
  return (o) => {
    const m = o.kind === 'event' ? eventPayload(o.event) : o.kind === 'frame' && k > 0 ? scoresPayload(o.frame, topK(o.frame.scores, k, 0)) : undefined;
    const line = m && formatMessage(m, mode);
    if (line !== undefined) process.stdout.write(`${line}\n`);
  };
}

/** `earshot run`: the daemon. Flags override the config file; SIGHUP re-reads it. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the live tagging daemon: sources -> tagger (config models.tagger; the start-up log names the one in use) -> events, served over WebSocket (+ /healthz, /metrics)')
    .option('-s, --source <spec>', 'mic[:DEVICE] | file:PATH | url:URL | stdin (repeatable; replaces config sources)', collect)
    .option('-m, --model <dir>', 'YAMNet model directory (default: config models.yamnetDir)')
    .option('-p, --port <n>', 'listen port (default: config server.port; 0 = any free port)')
    .option('--host <addr>', 'listen address (default: config server.host, 127.0.0.1)')
    .option('--loop', 'loop file sources')
    .option('--fast', 'read file sources as fast as possible instead of in real time')
    .option('--print [format]', `also write events to stdout: ${PRINT_MODES.join('|')} (default text)`)
    .option('--print-scores', 'with --print, also the top labels (config events.topK) of every hop')
    .option('--once', 'exit when every source has ended (file sources without --loop); a source that failed for good (e.g. a missing file) makes the exit code 2')
    .option('--state-dir <dir>', 'state directory (history database); default config stateDir, $STATE_DIRECTORY, ~/.local/state/earshot')
    .option('--no-history', 'do not record events and segments to the history database')
    .option('--fleet <url>', 'publish events, segment summaries and heartbeats to a hub over NATS JetStream (nats://host:4222); site = config fleet.site or the hostname')
    .action(
      action(async (opts: RunOpts, cmd: Command) => {
        const overrides = overridesFrom(opts);
        const config = configFrom(cmd, overrides, RUN_FLAGS);
        const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
        const logger = createLogger(config.logLevel);
        const notify = systemdNotifier(process.env.NOTIFY_SOCKET);
        const printMode = opts.print === undefined || opts.print === false ? undefined : opts.print === true ? 'text' : opts.print;
        if (printMode !== undefined && !(PRINT_MODES as readonly string[]).includes(printMode)) {
          throw new EarshotError('INPUT_INVALID', `--print must be one of ${PRINT_MODES.join(', ')}, got '${printMode}'`, { flag: '--print', value: printMode });
        }
        if (opts.printScores && printMode === undefined) throw new EarshotError('INPUT_INVALID', '--print-scores needs --print', { flag: '--print-scores' });
        const deps = await defaultDaemonDeps({ version: pkg.version, stdin: process.stdin, logger });
        const printer = printMode ? outputPrinter(printMode as PrintMode, opts.printScores ? config.events.topK : 0) : undefined;
        const history = { path: historyPathOf(config, process.env), clipsDir: clipsDirOf(config, process.env), examplesDir: examplesDirOf(config, process.env), version: pkg.version };
        // config pushed by a fleet hub (JetStream KV), laid under the CLI flags on every reload
        let pushed: ConfigObject = {};
        // what SIGHUP, a fleet push and a dashboard edit all re-read: file, env, pushed config, flags
        const reread = () => configFrom(cmd, mergeConfig(pushed, overrides) as ConfigObject, RUN_FLAGS);
        // the dashboard's settings persist next to the config file and apply through the SIGHUP path
        const configFile = (cmd.optsWithGlobals() as { config?: string }).config ?? process.env.EARSHOT_CONFIG;
        const settings = configFile ? { overridesPath: overridesPathFor(configFile), reread } : undefined;
        const daemon = await startDaemon(config, { ...deps, history, ...(printer ? { onOutput: printer } : {}), ...(settings ? { settings } : {}) });
        const { host, port } = daemon.address;
        const hostUrl = host.includes(':') ? `[${host}]` : host;
        process.stdout.write(`earshot listening on ws://${hostUrl}:${port}/ (health http://${hostUrl}:${port}/healthz, metrics /metrics)\n`);
        notify({ READY: '1', STATUS: `listening on ${hostUrl}:${port}` });

        // Fleet: config pushed by the hub (JetStream KV) goes through the same reload as SIGHUP, under the CLI flags.
        const reloadNow = () => daemon.reload(reread());
        const pushWatch = config.fleet.url
          ? (await import('../../fleet/config-push.js')).watchPushedConfig(
              config.fleet.url,
              siteOf(config.fleet.site),
              (o) => {
                pushed = o;
                try {
                  reloadNow();
                } catch (e) {
                  logger.error(`pushed config rejected, keeping the running configuration: ${(e as Error).message}`, { code: toEarshotError(e).code });
                }
              },
              (m: string) => logger.info(m),
            )
          : undefined;
        await new Promise<void>((resolve) => {
          let stopping = false;
          const stop = (why: string) => {
            if (stopping) return;
            stopping = true;
            logger.info(`${why}: stopping`);
            notify({ STOPPING: '1' });
            void pushWatch?.stop();
            void daemon.stop().then(resolve);
          };
          const onHup = () => {
            try {
              reloadNow();
            } catch (e) {
              logger.error(`reload failed, keeping the running configuration: ${(e as Error).message}`, { code: toEarshotError(e).code });
            }
          };
          process.on('SIGTERM', () => stop('SIGTERM'));
          process.on('SIGINT', () => stop('SIGINT'));
          process.on('SIGHUP', onHup);
          if (opts.once) void daemon.finished.then(() => stop('all sources ended'));
        });
        // --once reports a source that failed for good (a missing file, ...) as the command's error
        const failed = opts.once ? daemon.failures()[0] : undefined;
        if (failed) {
          process.stderr.write(`error [${failed.error.code}]: source ${failed.sourceId}: ${failed.error.message}\n`);
          process.exitCode = exitCodeFor(new EarshotError(failed.error.code, failed.error.message));
        }
        // stdin or lingering handles (a wedged child) must not keep a stopped daemon alive
        process.exit(process.exitCode ?? 0);
      }),
    );
}
