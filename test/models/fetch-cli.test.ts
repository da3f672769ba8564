import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { readModelDir } from '../../src/models/modeldir.js';
import { formulaVggishWeights } from '../../src/models/vggish/formula.js';
import { writeCheckpointV1 } from '../helpers/checkpoints.js';
import { runCli } from '../helpers/cli.js';
import { asRawTensors } from '../helpers/import-fixtures.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';

// `earshot models fetch vggish` end to end against a local node:http server that
// publishes a full-size V1 checkpoint (formula weights) and the real PCA npz with
// sha256 sidecars. The first run is SIGKILLed mid-download; the second resumes
// with an HTTP Range request and imports.

const STALL_BYTES = 64 << 20;
let dir = '';
let server: Server;
let base = '';
let stall = true;
const sockets = new Set<Socket>();
const requests: Array<{ path: string; range: string | undefined }> = [];
const files = new Map<string, Buffer>();
const f = (n: string): string => join(dir, n);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-fetch-cli-'));
  writeCheckpointV1(f('vggish_model.ckpt'), asRawTensors(formulaVggishWeights()));
  for (const [name, path] of [['vggish_model.ckpt', f('vggish_model.ckpt')], ['vggish_pca_params.npz', sharedPath('models/vggish/vggish_pca_params.npz')]] as const) {
    const b = readFileSync(path);
    files.set(`/audioset/${name}`, b);
    files.set(`/audioset/${name}.sha256`, Buffer.from(`${createHash('sha256').update(b).digest('hex')}  ${name}\n`));
  }
  server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    requests.push({ path, range: req.headers.range });
    const b = files.get(path);
    if (!b) {
      res.writeHead(404).end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (m) res.writeHead(206, { 'content-range': `bytes ${start}-${b.length - 1}/${b.length}`, 'content-length': b.length - start });
    else res.writeHead(200, { 'content-length': b.length });
    if (stall && path.endsWith('.ckpt')) {
      // Send a prefix, then hang: the client is killed while waiting for the rest.
      res.write(b.subarray(start, start + STALL_BYTES));
      return;
    }
    res.end(b.subarray(start));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audioset`;
});

after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('fetch: killed mid-download, resumed with Range, verified against sidecars and imported', async () => {
  const out = f('models/vggish');
  const part = `${out}.download/vggish_model.ckpt.part`;
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), 'models', 'fetch', 'vggish', '--base-url', base, '--out', out], { cwd: projectRoot, stdio: 'ignore' });
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  try {
    // Wait until the whole sent prefix is on disk (the CLI takes a few seconds to start).
    for (let i = 0; i < 1200 && !(existsSync(part) && statSync(part).size >= STALL_BYTES); i++) await sleep(100);
    assert.equal(statSync(part).size, STALL_BYTES);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  assert.equal(existsSync(out), false);
  stall = false;
  const r = await runCli(['models', 'fetch', 'vggish', '--base-url', base, '--out', out, '--progress']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(requests.filter((q) => q.path.endsWith('.ckpt')).at(-1)!.range, `bytes=${STALL_BYTES}-`);
  assert.match(r.stdout, new RegExp(`vggish_model\\.ckpt: resumed at byte ${STALL_BYTES}, ${files.get('/audioset/vggish_model.ckpt')!.length} bytes`));
  assert.match(r.stdout, /vggish_pca_params\.npz: already downloaded/);
  assert.match(r.stdout, /imported vggish \(tf-checkpoint-v1, 18 tensors, 72141184 parameters, PCA params\)/);
  assert.match(r.stderr, /vggish_model\.ckpt \[/);
  const md = readModelDir(out);
  assert.equal(md.manifest.provenance?.origin, `${base}/vggish_model.ckpt`);
  assert.equal(md.manifest.provenance?.sha256, createHash('sha256').update(files.get('/audioset/vggish_model.ckpt')!).digest('hex'));
  for (const [name, t] of formulaVggishWeights()) assert.deepEqual(md.weights.get(name)!.data, t.data, name);
  assert.deepEqual(readFileSync(join(out, md.manifest.extras!.pca!)), files.get('/audioset/vggish_pca_params.npz'));
  // Downloads are removed once imported.
  assert.equal(existsSync(`${out}.download`), false);
});

test('fetch: a checksum mismatch fails with MODEL_CHECKSUM_MISMATCH and leaves no model and no partial file', async () => {
  const out = f('bad/vggish');
  const r = await runCli(['models', 'fetch', 'vggish', '--base-url', base, '--out', out, '--pca-sha256', '0'.repeat(64)]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /error \[MODEL_CHECKSUM_MISMATCH\]: .*vggish_pca_params\.npz: downloaded file has sha256 [0-9a-f]{64}, expected 0{64}/);
  assert.equal(existsSync(out), false);
  // The emptied download directory is removed too (nothing partial is left to confuse a retry).
  assert.equal(existsSync(`${out}.download`), false);
});
