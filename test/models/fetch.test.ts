import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import { download } from '../../src/models/fetch/download.js';
import { expectedDigests, fetchVggish, OFFICIAL_BASE_URL, OFFICIAL_DIGESTS } from '../../src/models/fetch/vggish.js';
import { sharedPath } from '../helpers/shared.js';

// The resumable downloader against a real node:http server on port 0 that
// honours Range requests and can drop a connection mid-body.

interface Served {
  body: Buffer;
  /** Drop the connection after sending this many body bytes of the next response. */
  dropAfter?: number;
  ignoreRange?: boolean;
}

const files = new Map<string, Served>();
const requests: Array<{ path: string; range: string | undefined }> = [];
const sockets = new Set<Socket>();
let server: Server;
let base = '';
let dir = '';
const body = randomBytes(3 * 1024 * 1024 + 17);
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-fetch-'));
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ path, range: req.headers.range });
    const f = files.get(path);
    if (!f) {
      res.writeHead(404).end('not found');
      return;
    }
    const len = f.body.length;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    let start = 0;
    if (m && !f.ignoreRange) {
      start = Number(m[1]);
      if (start >= len) {
        res.writeHead(416, { 'content-range': `bytes */${len}` }).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${start}-${len - 1}/${len}`, 'content-length': len - start });
    } else res.writeHead(200, { 'content-length': len });
    const drop = f.dropAfter;
    if (drop !== undefined) {
      delete f.dropAfter;
      res.write(f.body.subarray(start, start + drop), () => setTimeout(() => req.socket.destroy(), 50));
      return;
    }
    res.end(f.body.subarray(start));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function fresh(name: string): { url: string; dest: string } {
  files.set(`/${name}`, { body });
  return { url: `${base}/${name}`, dest: join(dir, name) };
}

test('downloads, reports progress against Content-Length, verifies sha256 and renames into place', async () => {
  const { url, dest } = fresh('a.bin');
  const seen: Array<[number, number | undefined]> = [];
  const r = await download({ url, dest, expected: { sha256: sha(body) }, onProgress: (d, t) => seen.push([d, t]) });
  assert.equal(r.cached, false);
  assert.equal(r.resumedFrom, 0);
  assert.deepEqual(readFileSync(dest), body);
  assert.equal(existsSync(`${dest}.part`), false);
  assert.deepEqual(seen.at(-1), [body.length, body.length]);
  // Second call: already there with the right digest, no request made.
  const before = requests.length;
  const again = await download({ url, dest, expected: { sha256: sha(body) } });
  assert.equal(again.cached, true);
  assert.equal(requests.length, before);
});

test('a connection dropped mid-body keeps the .part; the next call resumes with Range and gets identical bytes', async () => {
  const { url, dest } = fresh('b.bin');
  files.get('/b.bin')!.dropAfter = 1_000_000;
  await assert.rejects(download({ url, dest, expected: { sha256: sha(body) } }), (e) => isEarshotError(e, 'DOWNLOAD_FAILED') && /rerun to resume/.test(e.message) && e.message.includes(url));
  const have = statSync(`${dest}.part`).size;
  assert.ok(have > 0 && have <= 1_000_000, `partial ${have}`);
  assert.deepEqual(readFileSync(`${dest}.part`), body.subarray(0, have));
  const r = await download({ url, dest, expected: { sha256: sha(body) } });
  assert.equal(requests.at(-1)!.range, `bytes=${have}-`);
  assert.equal(r.resumedFrom, have);
  assert.deepEqual(readFileSync(dest), body);
});

test('a complete .part left by a crash before the rename is verified via 416, not re-downloaded', async () => {
  const { url, dest } = fresh('c.bin');
  writeFileSync(`${dest}.part`, body);
  const r = await download({ url, dest, expected: { sha256: sha(body) } });
  assert.equal(requests.at(-1)!.range, `bytes=${body.length}-`);
  assert.equal(r.resumedFrom, body.length);
  assert.deepEqual(readFileSync(dest), body);
});

test('a server that ignores Range restarts the file from scratch', async () => {
  const { url, dest } = fresh('d.bin');
  files.get('/d.bin')!.ignoreRange = true;
  writeFileSync(`${dest}.part`, body.subarray(0, 12345));
  const r = await download({ url, dest, expected: { sha256: sha(body) } });
  assert.equal(r.resumedFrom, 0);
  assert.deepEqual(readFileSync(dest), body);
});

test('wrong checksum: MODEL_CHECKSUM_MISMATCH naming both digests, .part deleted, nothing at dest', async () => {
  const { url, dest } = fresh('e.bin');
  const wrong = '0'.repeat(64);
  await assert.rejects(download({ url, dest, expected: { sha256: wrong } }), (e) => isEarshotError(e, 'MODEL_CHECKSUM_MISMATCH') && e.message.includes(sha(body)) && e.message.includes(wrong));
  assert.equal(existsSync(dest), false);
  assert.equal(existsSync(`${dest}.part`), false);
  // md5 is checked too when given.
  await assert.rejects(download({ url, dest, expected: { sha256: sha(body), md5: 'f'.repeat(32) } }), (e) => isEarshotError(e, 'MODEL_CHECKSUM_MISMATCH') && /md5/.test(e.message));
});

test('HTTP errors and missing checksums are DOWNLOAD_FAILED naming the URL', async () => {
  const url = `${base}/missing.bin`;
  await assert.rejects(download({ url, dest: join(dir, 'missing.bin'), expected: { sha256: 'a'.repeat(64) } }), (e) => isEarshotError(e, 'DOWNLOAD_FAILED') && e.message.includes(url) && /HTTP 404/.test(e.message));
  const n = requests.length;
  await assert.rejects(download({ url, dest: join(dir, 'x.bin'), expected: {} }), (e) => isEarshotError(e, 'DOWNLOAD_FAILED') && /without an expected checksum/.test(e.message));
  assert.equal(requests.length, n);
  await assert.rejects(download({ url: 'http://127.0.0.1:1/x', dest: join(dir, 'y.bin'), expected: { sha256: 'a'.repeat(64) } }), (e) => isEarshotError(e, 'DOWNLOAD_FAILED') && /request failed/.test(e.message));
});

test('expected digests: sidecar <file>.sha256, --sha256 flag, and built-ins only for the official URL', async () => {
  files.set('/mirror/vggish_model.ckpt.sha256', { body: Buffer.from(`${sha(body)}  vggish_model.ckpt\n`) });
  assert.deepEqual(await expectedDigests(`${base}/mirror`, 'vggish_model.ckpt', undefined), { sha256: sha(body) });
  assert.deepEqual(await expectedDigests(`${base}/mirror/`, 'vggish_model.ckpt', 'AB'.repeat(32)), { sha256: 'ab'.repeat(32) });
  await assert.rejects(expectedDigests(`${base}/mirror`, 'vggish_pca_params.npz', undefined), (e) => isEarshotError(e, 'DOWNLOAD_FAILED') && /no checksum known/.test(e.message) && /pass --pca-sha256 <hex>/.test(e.message));
  await assert.rejects(expectedDigests(`${base}/nothing`, 'vggish_model.ckpt', undefined), (e) => isEarshotError(e, 'DOWNLOAD_FAILED') && /pass --sha256 <hex>/.test(e.message));
  files.set('/bad/vggish_model.ckpt.sha256', { body: Buffer.from('not a digest') });
  await assert.rejects(expectedDigests(`${base}/bad`, 'vggish_model.ckpt', undefined), (e) => isEarshotError(e, 'DOWNLOAD_FAILED') && /not a sha256 digest/.test(e.message));
  // Official URL: built-in digests, and no sidecar request at all (issue #20: it was probed, and failed offline).
  const offline = (async (u: unknown) => assert.fail(`no request expected, got ${String(u)}`)) as typeof fetch;
  assert.deepEqual(await expectedDigests(OFFICIAL_BASE_URL, 'vggish_model.ckpt', undefined, offline), { md5: OFFICIAL_DIGESTS['vggish_model.ckpt']!.md5 });
  assert.deepEqual(await expectedDigests(OFFICIAL_BASE_URL, 'vggish_pca_params.npz', undefined, offline), OFFICIAL_DIGESTS['vggish_pca_params.npz']);
  await assert.rejects(expectedDigests(OFFICIAL_BASE_URL, 'vggish_pca_params.npz', 'c'.repeat(64), offline), (e) => isEarshotError(e, 'MODEL_CHECKSUM_MISMATCH') && /--pca-sha256 c+ for vggish_pca_params\.npz contradicts/.test(e.message));
});

test('the built-in PCA digests match the copy in shared/ (whose md5 matches the third-party record)', () => {
  const npz = readFileSync(sharedPath('models/vggish/vggish_pca_params.npz'));
  assert.equal(sha(npz), OFFICIAL_DIGESTS['vggish_pca_params.npz']!.sha256);
  assert.equal(createHash('md5').update(npz).digest('hex'), OFFICIAL_DIGESTS['vggish_pca_params.npz']!.md5);
});

test('fetch with the network unreachable: DOWNLOAD_FAILED explains and names the import command; no empty .download/ left', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-fetch-offline-'));
  try {
    const out = join(dir, 'vggish');
    // Port 1 on loopback refuses the connection: the same path as no route to storage.googleapis.com.
    await assert.rejects(
      fetchVggish({ baseUrl: 'http://127.0.0.1:1/audioset', outDir: out, sha256: 'a'.repeat(64), pcaSha256: 'b'.repeat(64) }),
      (e) => isEarshotError(e, 'DOWNLOAD_FAILED') && /network looks unreachable/.test(e.message) && e.message.includes(`earshot models import vggish <vggish_model.ckpt> --pca <vggish_pca_params.npz> --out ${out}`),
    );
    assert.equal(existsSync(`${out}.download`), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
