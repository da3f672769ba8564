import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { stringify } from 'yaml';

import { projectRoot } from '../helpers/shared.js';

/** `earshot run` as a real child process (the CLI from source), with its address parsed from stdout. */
export interface DaemonProcess {
  readonly child: ChildProcess;
  readonly ws: string;
  readonly http: string;
  readonly configPath: string;
  readonly stderr: () => string;
  stop(): Promise<number | null>;
}

export async function startDaemonProcess(config: Record<string, unknown>, dir: string, opts: { env?: NodeJS.ProcessEnv; args?: string[]; stdin?: 'pipe' | 'ignore' } = {}): Promise<DaemonProcess> {
  mkdirSync(dir, { recursive: true });
  const cfgPath = join(dir, `config-${Date.now()}-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(cfgPath, stringify(config));
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), '--config', cfgPath, 'run', '--port', '0', ...(opts.args ?? [])], {
    cwd: projectRoot,
    // History goes into the test's directory, never the runner's ~/.local/state.
    env: { ...process.env, STATE_DIRECTORY: dir, ...opts.env },
    stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on ws:\/\/([^/]+)\//.exec(out);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`earshot run exited with ${code} before listening: ${err}`)));
  });
  return {
    child,
    ws: `ws://${address}/`,
    http: `http://${address}`,
    configPath: cfgPath,
    stderr: () => err,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A PATH directory whose `arecord` is the real one paced to real time (see paced-arecord.py). */
export function pacedArecordDir(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync(fileURLToPath(new URL('./paced-arecord.py', import.meta.url)), join(bin, 'arecord'));
  chmodSync(join(bin, 'arecord'), 0o755);
  return bin;
}

/** Direct children of `pid` whose command line contains `name` (from /proc, no procps needed). */
export function childPids(pid: number, name: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== pid) continue;
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(name)) out.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return out;
}

export function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.error?.message ?? r.stderr}`);
}
