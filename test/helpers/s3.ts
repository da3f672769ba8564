import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

import { type StorageConfig, storageSchema } from '../../src/config/sections/storage.js';
import { freePort } from './server-process.js';
import { projectRoot } from './shared.js';

/**
 * Real S3 servers for tests. s3rver runs in a child process (not in-process) so
 * a test can SIGKILL it mid-request and restart it on the same port and data
 * directory, exactly like a crashing object store.
 */
export interface S3TestServer {
  readonly endpoint: string;
  readonly port: number;
  readonly bucket: string;
  /** StorageConfig pointing at this server (path-style, fixed test keys). */
  readonly config: StorageConfig;
  url(prefix?: string): string;
  /** SIGKILL: in-flight requests die with connection resets. */
  kill(): Promise<void>;
  /** Starts again on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops the server and removes its data unless it was given a directory. */
  stop(): Promise<void>;
}

const CHILD = `
const S3rver = require('s3rver');
const s = new S3rver({
  address: '127.0.0.1', port: Number(process.env.S3RVER_PORT), silent: true,
  directory: process.env.S3RVER_DIR, configureBuckets: process.env.S3RVER_BUCKETS.split(',').map((name) => ({ name })),
});
s.run().then((a) => process.stdout.write(JSON.stringify({ port: a.port }) + '\\n'), (e) => { console.error(e); process.exit(1); });
process.on('SIGTERM', () => s.close().then(() => process.exit(0)));
`;

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => child.once('exit', () => res()));
}

async function spawnS3rver(dir: string, buckets: readonly string[], port: number): Promise<{ child: ChildProcess; port: number }> {
  // s3rver encrypts ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only has in its legacy provider.
  const child = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
    cwd: projectRoot,
    env: { ...process.env, S3RVER_PORT: String(port), S3RVER_DIR: dir, S3RVER_BUCKETS: buckets.join(',') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const line = await new Promise<string>((res, rej) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (l) => {
      rl.close();
      res(l);
    });
    child.once('exit', (code) => rej(new Error(`s3rver exited with ${code} before listening: ${stderr}`)));
  });
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

/**
 * A real S3 PUT is atomic; s3rver writes an object's data and its metadata JSON as separate
 * files, so a SIGKILL can leave a truncated metadata file behind, on which every later
 * listing of that prefix fails with 500. Before a restart, objects whose metadata does not
 * parse are removed, as if their interrupted PUT had never happened.
 */
function dropTornObjects(root: string): void {
  const suffix = '._S3rver_metadata.json';
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(suffix)) continue;
    const meta = join(entry.parentPath, entry.name);
    try {
      JSON.parse(readFileSync(meta, 'utf8'));
    } catch {
      const base = meta.slice(0, -suffix.length);
      for (const f of [meta, `${base}._S3rver_object`, `${base}._S3rver_object.md5`]) rmSync(f, { force: true });
    }
  }
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/** `bucket` (default earshot-test) plus any `extraBuckets` exist from the start. */
export async function startS3rver(opts: { bucket?: string; extraBuckets?: string[]; dir?: string } = {}): Promise<S3TestServer> {
  const bucket = opts.bucket ?? 'earshot-test';
  const buckets = [bucket, ...(opts.extraBuckets ?? [])];
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'earshot-s3rver-'));
  let { child, port } = await spawnS3rver(dir, buckets, 0);
  live.add(child);
  const endpoint = `http://127.0.0.1:${port}`;
  const config = storageSchema.parse({
    s3: { endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  return {
    endpoint,
    port,
    bucket,
    config,
    url: (prefix = '') => `s3://${bucket}${prefix === '' ? '' : `/${prefix}`}`,
    async kill() {
      child.kill('SIGKILL');
      await waitExit(child);
      live.delete(child);
    },
    async restart() {
      dropTornObjects(dir);
      ({ child } = await spawnS3rver(dir, buckets, port));
      live.add(child);
    },
    async stop() {
      child.kill('SIGTERM');
      await waitExit(child);
      live.delete(child);
      if (opts.dir === undefined) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------
// Ceph radosgw: a throw-away single-node cluster (one ceph-mon, one ceph-osd on
// memstore, radosgw with the beast frontend), loopback only, auth none, in a
// temp dir. Debian bookworm ships Ceph 16 (Pacific), whose radosgw has no
// dbstore/SQLite backend yet, so a real mon+osd is the smallest RADOS it can use.

const CEPH_BINARIES = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'monmaptool', 'ceph-authtool', 'ceph'] as const;

/** Names of the Ceph binaries missing from PATH (Debian packages ceph-mon ceph-osd radosgw ceph-common). */
export function missingCephBinaries(): string[] {
  const dirs = (process.env.PATH ?? '').split(':').filter(Boolean);
  return CEPH_BINARIES.filter((b) => !dirs.some((d) => existsSync(join(d, b))));
}

const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

function run(cmd: string, args: string[], dir: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, cwd: dir });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

function logTail(dir: string): string {
  const logs = join(dir, 'log');
  if (!existsSync(logs)) return '';
  return readdirSync(logs)
    .map((f) => `--- ${f}\n${readFileSync(join(logs, f), 'utf8').split('\n').slice(-15).join('\n')}`)
    .join('\n');
}

async function until(what: string, dir: string, deadlineMs: number, probe: () => Promise<boolean> | boolean): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`radosgw test cluster: ${what} not ready after ${deadlineMs} ms\n${logTail(dir)}`);
    await sleep(250);
  }
}

function cephConf(dir: string, fsid: string, monPort: number, rgwPort: number): string {
  return `[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${monPort}
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
# auth none: nothing leaves loopback and the cluster lives for one test file.
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = false
# radosgw defaults to "secure" mode towards the mon, which needs cephx session keys.
ms mon client mode = crc
run dir = ${dir}/run
log file = ${dir}/log/$name.log
admin socket = ${dir}/run/$name.asok
pid file = ${dir}/run/$name.pid
keyring = ${dir}/keyring
mon data = ${dir}/mon/$cluster-$id
osd data = ${dir}/osd/$cluster-$id
mon data avail warn = 1
mon data avail crit = 0
osd objectstore = memstore
memstore device bytes = 536870912
# One OSD: replicas of one, placement across OSDs not hosts, few PGs per pool.
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
osd pool default pg num = 8
osd pool default pgp num = 8
mon max pg per osd = 1000
osd pool default pg autoscale mode = off
[client.rgw.test]
rgw frontends = beast endpoint=127.0.0.1:${rgwPort}
rgw data = ${dir}/rgw
`;
}

export interface RadosgwTestServer extends Omit<S3TestServer, 'kill' | 'restart'> {
  readonly dir: string;
}

/** Starts mon, osd and radosgw, creates an S3 user and `bucket`. Takes ~10-20 s. */
export async function startRadosgw(opts: { bucket?: string } = {}): Promise<RadosgwTestServer> {
  const missing = missingCephBinaries();
  if (missing.length > 0) throw new Error(`radosgw test cluster needs ${missing.join(', ')} (Debian: ceph-mon ceph-osd radosgw ceph-common)`);
  const bucket = opts.bucket ?? 'earshot-test';
  const dir = mkdtempSync(join(tmpdir(), 'earshot-ceph-'));
  for (const d of ['run', 'log', 'mon', 'osd/ceph-0', 'rgw']) mkdirSync(join(dir, d), { recursive: true });
  const [monPort, rgwPort] = [await freePort(), await freePort()];
  const fsid = randomUUID();
  const conf = join(dir, 'ceph.conf');
  writeFileSync(conf, cephConf(dir, fsid, monPort, rgwPort));
  const children: ChildProcess[] = [];
  const daemon = (cmd: string, args: string[]) => {
    const c = spawn(cmd, ['-c', conf, ...args, '-f'], { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'] });
    children.push(c);
    live.add(c);
  };
  const stop = async () => {
    // radosgw and the osd first: an osd whose mon is gone waits a long time before exiting.
    for (const c of [...children].reverse()) {
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 10_000);
      await waitExit(c);
      clearTimeout(t);
      live.delete(c);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('ceph-authtool', ['--create-keyring', join(dir, 'keyring'), '--gen-key', '-n', 'mon.', '--cap', 'mon', 'allow *'], dir);
    run('monmaptool', ['--create', '--addv', 'a', `[v2:127.0.0.1:${monPort}]`, '--fsid', fsid, join(dir, 'monmap')], dir);
    run('ceph-mon', ['-c', conf, '--mkfs', '-i', 'a', '--monmap', join(dir, 'monmap'), '--keyring', join(dir, 'keyring')], dir);
    daemon('ceph-mon', ['-i', 'a']);
    const osdUuid = randomUUID();
    await until('ceph-mon', dir, 30_000, () => spawnSync('ceph', ['-c', conf, '--connect-timeout', '5', 'mon', 'stat'], { timeout: 10_000 }).status === 0);
    const id = run('ceph', ['-c', conf, 'osd', 'create', osdUuid], dir).trim();
    if (id !== '0') throw new Error(`expected osd id 0, got ${id}`);
    run('ceph-osd', ['-c', conf, '-i', '0', '--mkfs', '--osd-uuid', osdUuid], dir);
    daemon('ceph-osd', ['-i', '0']);
    await until('ceph-osd', dir, 60_000, () => {
      const r = spawnSync('ceph', ['-c', conf, 'osd', 'stat', '-f', 'json'], { encoding: 'utf8', timeout: 10_000 });
      return r.status === 0 && (JSON.parse(r.stdout) as { num_up_osds?: number }).num_up_osds === 1;
    });
    daemon('radosgw', ['-n', 'client.rgw.test']);
    const endpoint = `http://127.0.0.1:${rgwPort}`;
    await until('radosgw', dir, 90_000, async () => {
      try {
        return (await fetch(endpoint)).status === 200;
      } catch {
        return false;
      }
    });
    const accessKeyId = 'EARSHOTTEST';
    const secretAccessKey = randomUUID();
    run('radosgw-admin', ['-c', conf, '-n', 'client.rgw.test', 'user', 'create', '--uid=earshot', '--display-name=earshot', `--access-key=${accessKeyId}`, `--secret=${secretAccessKey}`], dir);
    const config = storageSchema.parse({ s3: { endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyId, secretAccessKey } });
    const admin = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId, secretAccessKey },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    try {
      await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    } finally {
      admin.destroy();
    }
    return {
      endpoint,
      port: rgwPort,
      bucket,
      config,
      dir,
      url: (prefix = '') => `s3://${bucket}${prefix === '' ? '' : `/${prefix}`}`,
      stop,
    };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    await stop();
    throw new Error(msg, { cause: e });
  }
}
