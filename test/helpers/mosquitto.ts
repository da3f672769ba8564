import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { freePort, startServerProcess } from './server-process.js';

/**
 * A real Debian `mosquitto` on 127.0.0.1 and a free port, with its own config in a
 * temp directory (never the package's service), persistence on (so a restart keeps
 * retained messages and persistent sessions), optionally a password file or TLS with a
 * CA made here by openssl. `kill` stops it (SIGTERM saves its database, as a service
 * stop would); `restart` starts it again on the same port.
 */
export interface MosquittoBroker {
  readonly port: number;
  readonly url: string;
  /** TLS only: the test CA's certificate (PEM path). */
  readonly caPath: string;
  readonly log: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
}

/** A test CA and a server certificate for IP 127.0.0.1 signed by it (EC P-256: quick to make). */
function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const p = (f: string) => join(dir, f);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('openssl', ['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '2', '-subj', '/CN=earshot test CA']);
  run('openssl', ['req', ...ec, '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  run('openssl', ['x509', '-req', '-in', p('server.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.crt'), '-days', '2', '-extfile', p('ext.cnf')]);
  return { ca: p('ca.crt'), cert: p('server.crt'), key: p('server.key') };
}

export async function startMosquitto(dir: string, opts: { users?: Record<string, string>; tls?: boolean } = {}): Promise<MosquittoBroker> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const lines = [`listener ${port} 127.0.0.1`, 'user root', 'persistence true', `persistence_location ${dir}/`, 'log_dest stderr', 'log_type error', 'log_type warning', 'log_type notice'];
  if (opts.users) {
    const pw = join(dir, 'passwd');
    writeFileSync(pw, '');
    for (const [u, p] of Object.entries(opts.users)) run('mosquitto_passwd', ['-b', pw, u, p]);
    lines.push('allow_anonymous false', `password_file ${pw}`);
  } else {
    lines.push('allow_anonymous true');
  }
  let caPath = '';
  if (opts.tls) {
    const c = makeCerts(dir);
    caPath = c.ca;
    lines.push(`cafile ${c.ca}`, `certfile ${c.cert}`, `keyfile ${c.key}`);
  }
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, lines.join('\n') + '\n');
  const server = await startServerProcess('mosquitto', ['-c', conf], port);
  const kill = (signal: NodeJS.Signals = 'SIGTERM') => server.kill(signal);
  return {
    port,
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    caPath,
    log: server.log,
    kill,
    restart: server.restart,
    stop: () => kill('SIGTERM'),
  };
}
