import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort, startServerProcess } from './server-process.js';

/**
 * A real Debian `nats-server -js` on 127.0.0.1 and a free port, JetStream file storage
 * in a temp directory (so a kill + restart keeps streams and consumers). `kill` stops
 * it (SIGKILL = a crash), `restart` starts it again on the same port and store, `stop`
 * stops it and removes the directory.
 */
export interface NatsServer {
  readonly port: number;
  readonly url: string;
  readonly log: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startNats(): Promise<NatsServer> {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-nats-'));
  const port = await freePort();
  const server = await startServerProcess('nats-server', ['-js', '-sd', dir, '-a', '127.0.0.1', '-p', String(port)], port);
  const kill = (signal: NodeJS.Signals = 'SIGKILL') => server.kill(signal);
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    log: server.log,
    kill,
    restart: server.restart,
    async stop() {
      await kill('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
