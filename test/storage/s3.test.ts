import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';

import { storageSchema } from '../../src/config/sections/storage.js';
import { isEarshotError } from '../../src/errors.js';
import { localStorage, openStorage, parseS3Url, type S3Storage, s3Storage } from '../../src/storage/index.js';
import { readAudioSetClips } from '../../src/train/datasets/index.js';
import { type S3TestServer, startS3rver } from '../helpers/s3.js';
import { sharedPath } from '../helpers/shared.js';
import { storageContract } from './contract.js';

let srv: S3TestServer;
const opened: S3Storage[] = [];
let n = 0;
const noWait = { sleep: async () => undefined };

before(async () => {
  srv = await startS3rver({ extraBuckets: ['earshot-root'] });
});
after(async () => {
  for (const s of opened) s.close();
  await srv.stop();
});

/** A fresh prefix per storage keeps contract tests independent on one server. */
function fresh(prefix = `t${n++}`, opts: Parameters<typeof s3Storage>[2] = {}): S3Storage {
  const s = s3Storage(srv.url(prefix), srv.config, opts);
  opened.push(s);
  return s;
}

// s3rver writes objects in place (no temp file), so overwrites of one key are not atomic there; real S3 and radosgw are.
const s3rverCaps = { atomicOverwrite: false };
storageContract('s3rver', async () => fresh(), s3rverCaps);
storageContract('s3rver, 2-key list pages', async () => fresh(undefined, { listPageSize: 2 }), s3rverCaps);

test('a bucket-root URL (no prefix) lists, reads and deletes whole-bucket keys', async () => {
  const s = s3Storage('s3://earshot-root', srv.config, { listPageSize: 1 });
  opened.push(s);
  for (const k of ['z', 'a/b', 'a/a']) await s.writeAtomic(k, Buffer.from(k));
  assert.deepEqual(await s.list(), ['a/a', 'a/b', 'z']);
  assert.equal((await s.read('a/b')).toString(), 'a/b');
  for (const k of await s.list()) await s.delete(k);
  assert.deepEqual(await s.list(), []);
});

test('parseS3Url splits bucket and prefix and rejects bad URLs', () => {
  assert.deepEqual(parseS3Url('s3://bkt'), { bucket: 'bkt', base: '' });
  assert.deepEqual(parseS3Url('s3://bkt/'), { bucket: 'bkt', base: '' });
  assert.deepEqual(parseS3Url('s3://bkt/a/b/'), { bucket: 'bkt', base: 'a/b/' });
  for (const u of ['s3://', 's3://B_ad/x', 's3://bkt/../x', 's3://bkt/a//b']) {
    assert.throws(
      () => parseS3Url(u),
      (e) => isEarshotError(e, 'INPUT_INVALID'),
      u,
    );
  }
});

test('openStorage routes s3:// URLs to S3 with the config endpoint and keys', async () => {
  const s = openStorage(srv.url('routed'), srv.config);
  await s.writeAtomic('k', Buffer.from('hello'));
  assert.equal((await fresh('routed').read('k')).toString(), 'hello');
  assert.equal(s.url, `s3://${srv.bucket}/routed`);
  (s as S3Storage).close();
});

test('real AudioSet TFRecords read through S3 equal the local read', async () => {
  const local = localStorage(sharedPath('data/audioset/features'));
  const keys = (await local.list('bal_train/')).slice(0, 40);
  const s = fresh();
  for (const k of keys) await s.writeAtomic(k, await local.read(k));
  const ids = async (st: typeof s, opts = {}) => {
    const out: string[] = [];
    for await (const c of readAudioSetClips(st, { prefix: 'bal_train/', ...opts })) out.push(`${c.videoId}:${c.labels.join('.')}:${c.embeddings[0]}`);
    return out;
  };
  const fromS3 = await ids(s, { chunkBytes: 4096 });
  const fromLocal: string[] = [];
  for await (const c of readAudioSetClips(local, { prefix: 'bal_train/' })) {
    if (!keys.some((k) => k === `bal_train/${c.videoId.slice(0, 2)}.tfrecord`)) break;
    fromLocal.push(`${c.videoId}:${c.labels.join('.')}:${c.embeddings[0]}`);
  }
  assert.ok(fromS3.length > 100);
  assert.deepEqual(fromS3, fromLocal.slice(0, fromS3.length));
});

test('wrong credentials and a missing bucket fail at once with STORAGE_FAILED naming the URL', async () => {
  let sleeps = 0;
  const counting = { retry: { sleep: async () => void sleeps++ } };
  const bad = s3Storage(srv.url('x'), { s3: { ...srv.config.s3, accessKeyId: 'WRONG' } }, counting);
  opened.push(bad);
  await assert.rejects(
    () => bad.read('k'),
    (e) => isEarshotError(e, 'STORAGE_FAILED') && e.message.includes(`s3://${srv.bucket}/x/k`),
  );
  const nob = s3Storage('s3://no-such-bucket/p', srv.config, counting);
  opened.push(nob);
  await assert.rejects(
    () => nob.writeAtomic('k', Buffer.from('x')),
    (e) => isEarshotError(e, 'STORAGE_FAILED') && e.message.includes('no-such-bucket'),
  );
  assert.equal(sleeps, 0, '4xx answers are not retried');
});

async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
  const port = (s.address() as { port: number }).port;
  await new Promise((res) => s.close(res));
  return port;
}

test('connection refused is retried a bounded number of times with capped backoff, then STORAGE_FAILED', async () => {
  const port = await deadPort();
  const delays: number[] = [];
  const cfg = storageSchema.parse({ s3: { ...srv.config.s3, endpoint: `http://127.0.0.1:${port}` } });
  const s = s3Storage('s3://bkt/p', cfg, {
    retry: { attempts: 5, baseDelayMs: 100, maxDelayMs: 300, random: () => 0.999999, sleep: async (ms) => void delays.push(ms) },
  });
  opened.push(s);
  await assert.rejects(
    () => s.read('a/key'),
    (e) => isEarshotError(e, 'STORAGE_FAILED') && e.message.includes('s3://bkt/p/a/key') && /ECONNREFUSED/.test(e.message),
  );
  assert.deepEqual(delays, [100, 200, 300, 300]);
});

test('a write started while the server is down completes once it is back', async () => {
  let retries = 0;
  const sleep = (ms: number) => {
    retries++;
    return new Promise<void>((res) => setTimeout(res, ms));
  };
  const s = fresh('resume', { retry: { attempts: 40, baseDelayMs: 50, maxDelayMs: 200, sleep } });
  await s.writeAtomic('before', Buffer.from('1'));
  await srv.kill();
  let failures = 0;
  const pending = s.writeAtomic('during', randomBytes(100_000)).catch((e: unknown) => {
    failures++;
    throw e;
  });
  await srv.restart();
  await pending;
  assert.equal(failures, 0);
  assert.ok(retries > 0, 'the first attempt hit the dead server and was retried');
  assert.equal(await s.size('during'), 100_000);
  assert.equal((await s.read('before')).toString(), '1');
});

test('empty region/keys in the config fall back to the SDK standard AWS_* environment chain', async () => {
  const keys = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const;
  const saved = keys.map((k) => process.env[k]);
  const onlyEndpoint = storageSchema.parse({ s3: { endpoint: srv.endpoint, forcePathStyle: true } });
  try {
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' });
    const s = s3Storage(srv.url('envchain'), onlyEndpoint);
    opened.push(s);
    await s.writeAtomic('k', Buffer.from('from env'));
    assert.equal((await fresh('envchain').read('k')).toString(), 'from env');
    // The key really comes from the environment: a wrong one there is refused by the server.
    process.env.AWS_ACCESS_KEY_ID = 'NOT-A-KEY';
    const wrong = s3Storage(srv.url('envchain'), onlyEndpoint, { retry: { attempts: 1 } });
    opened.push(wrong);
    await assert.rejects(
      () => wrong.read('k'),
      (e) => isEarshotError(e, 'STORAGE_FAILED') && /InvalidAccessKeyId|403/.test(e.message),
    );
  } finally {
    keys.forEach((k, i) => {
      if (saved[i] === undefined) delete process.env[k];
      else process.env[k] = saved[i];
    });
  }
});

test('a dataset read survives the server dying and coming back mid-stream', async () => {
  const local = localStorage(sharedPath('data/audioset/features'));
  const keys = (await local.list('eval/')).slice(0, 60);
  let retries = 0;
  const sleep = (ms: number) => {
    retries++;
    return new Promise<void>((res) => setTimeout(res, ms));
  };
  const s = fresh('outage', { retry: { attempts: 60, baseDelayMs: 20, maxDelayMs: 100, sleep } });
  for (const k of keys) await s.writeAtomic(k, await local.read(k));
  const want: string[] = [];
  for await (const c of readAudioSetClips(s, { prefix: 'eval/' })) want.push(`${c.videoId}:${c.labels.join('.')}:${c.embeddings[5]}`);
  const got: string[] = [];
  let outage: Promise<void> | undefined;
  for await (const c of readAudioSetClips(s, {
    prefix: 'eval/',
    prefetchFiles: 2,
    onProgress: (p) => {
      if (p.filesDone === 10) outage = srv.kill().then(() => srv.restart());
    },
  })) {
    got.push(`${c.videoId}:${c.labels.join('.')}:${c.embeddings[5]}`);
  }
  await outage;
  assert.ok(outage, 'the server was killed mid-read');
  assert.ok(retries > 0, 'reads hit the dead server and were retried');
  assert.deepEqual(got, want);
});

test('test harness: an object whose metadata a kill left torn is gone after restart, as an interrupted PUT would be', async () => {
  const { mkdtempSync, readdirSync, rmSync, truncateSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'earshot-s3rver-torn-'));
  const own = await startS3rver({ dir });
  try {
    const s = s3Storage(own.url('torn'), own.config, { retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, ...noWait } });
    await s.writeAtomic('kept', Buffer.from('1'));
    await s.writeAtomic('torn', Buffer.from('2'));
    await own.kill();
    const meta = readdirSync(dir, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('torn._S3rver_metadata.json'));
    assert.ok(meta, 's3rver keeps metadata beside each object');
    truncateSync(join(dir, meta), 5); // what a SIGKILL during the metadata write leaves
    await own.restart();
    assert.deepEqual(await s.list(''), ['kept']);
    assert.equal((await s.read('kept')).toString(), '1');
    s.close();
  } finally {
    await own.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
