import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection, createServer } from 'node:net';

/** A free TCP port on 127.0.0.1 (closed again before returning; the caller binds it next). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function waitListening(name: string, port: number, proc: ChildProcess, log: () => string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`${name} exited with ${proc.exitCode}: ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${name} did not listen on ${port}: ${log()}`);
}

/** A server binary the tests run (mosquitto, nats-server): started, killed and restarted on its port. */
export interface ServerProcess {
  /** Its stdout and stderr so far. */
  readonly log: () => string;
  /** Sends `signal` and waits for the exit; a no-op when it is not running. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** Starts it again with the same command (same port, same state directory). */
  restart(): Promise<void>;
}

/** Spawns `cmd args` and resolves once it accepts connections on 127.0.0.1:`port`. */
export async function startServerProcess(cmd: string, args: readonly string[], port: number): Promise<ServerProcess> {
  let out = '';
  let proc: ChildProcess;
  const launch = async () => {
    proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    await waitListening(cmd, port, proc, () => out);
  };
  await launch();
  return {
    log: () => out,
    async kill(signal) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const gone = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await gone;
    },
    restart: launch,
  };
}
