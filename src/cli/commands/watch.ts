import type { Command } from 'commander';

import { EarshotError } from '../../errors.js';
import { action, configFrom } from '../common.js';
import { formatMessage, PRINT_MODES, type PrintMode } from '../live-format.js';

interface WatchOpts {
  labels?: string[];
  sources?: string[];
  token?: string;
  scores?: boolean;
  top?: string;
  json?: boolean;
}

const list = (v: string, prev: string[] = []) => [
  ...prev,
  ...v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
];

/**
 * `earshot watch [URL]`: a small WebSocket client printing a daemon's events (and
 * status, and with --scores its top labels) as they happen. Exits 0 when the daemon
 * closes the connection, 2 when it cannot connect or rejects the subscription.
 */
export function registerWatch(program: Command): void {
  program
    .command('watch [url]')
    .description("print a running daemon's events live (default ws://127.0.0.1:<config server.port>/)")
    .option('-l, --labels <names>', 'only these labels (names, ontology ids or parents; comma-separated or repeated)', list)
    .option('-s, --sources <ids>', 'only these sources (comma-separated or repeated)', list)
    .option('-t, --token <token>', 'server token (default: config server.token)')
    .option('--scores', 'also print the top labels of every hop')
    .option('-k, --top <k>', 'labels per hop with --scores (default: config events.topK)')
    .option('--json', 'print the protocol messages as JSON lines')
    .action(
      action(async (url: string | undefined, opts: WatchOpts, cmd: Command) => {
        const cfg = configFrom(cmd);
        const mode: PrintMode = opts.json ? 'json' : 'text';
        if (!PRINT_MODES.includes(mode)) throw new EarshotError('INPUT_INVALID', `unknown output mode ${mode}`);
        const top = opts.top === undefined ? undefined : Number(opts.top);
        if (top !== undefined && !(Number.isInteger(top) && top >= 1)) throw new EarshotError('INPUT_INVALID', `--top must be a positive integer, got '${opts.top}'`, { flag: '--top' });
        const target = url ?? `ws://127.0.0.1:${cfg.server.port}/`;
        const token = opts.token ?? cfg.server.token;
        const { WebSocket } = await import('ws');
        const ws = new WebSocket(target, token ? { headers: { authorization: `Bearer ${token}` } } : {});
        await new Promise<void>((resolve, reject) => {
          let subscribed = false;
          ws.once('unexpected-response', (_req, res) =>
            reject(
              new EarshotError(
                res.statusCode === 401 ? 'AUTH_FAILED' : 'PROTOCOL_ERROR',
                `${target} refused the connection: HTTP ${res.statusCode}${res.statusCode === 401 ? ' (pass --token or set server.token)' : ''}`,
                { url: target },
              ),
            ),
          );
          ws.once('error', (e: NodeJS.ErrnoException) =>
            reject(new EarshotError('STREAM_FAILED', `cannot connect to ${target}: ${e.code ?? e.message} (is \`earshot run\` running?)`, { url: target }, { cause: e })),
          );
          ws.on('message', (data) => {
            const m = JSON.parse(String(data)) as Record<string, unknown> & { type: string };
            if (m.type === 'hello') {
              const sources = (m.sources as { id: string; state: string }[]).map((s) => `${s.id} (${s.state})`).join(', ');
              process.stderr.write(`connected to earshot ${String(m.version)} at ${target}: ${sources}\n`);
              ws.send(
                JSON.stringify({
                  type: 'subscribe',
                  kinds: opts.scores ? ['events', 'status', 'scores'] : ['events', 'status'],
                  ...(opts.labels?.length ? { labels: opts.labels } : {}),
                  ...(opts.sources?.length ? { sources: opts.sources } : {}),
                  ...(top !== undefined ? { topK: top } : {}),
                }),
              );
              return;
            }
            if (m.type === 'subscribed') {
              subscribed = true;
              return;
            }
            if (m.type === 'error' && !subscribed) {
              ws.close();
              reject(new EarshotError('PROTOCOL_ERROR', `subscription refused: ${String(m.message)}`));
              return;
            }
            const line = formatMessage(m, mode);
            if (line !== undefined) process.stdout.write(`${line}\n`);
          });
          ws.once('close', (code) => {
            process.stderr.write(`connection closed (${code})\n`);
            resolve();
          });
          process.once('SIGINT', () => ws.close(1000));
          process.once('SIGTERM', () => ws.close(1000));
        });
      }),
    );
}
