import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { projectRoot } from './shared.js';
import { storageSchema, type StorageConfig } from '../../src/config/sections/storage.js';

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
