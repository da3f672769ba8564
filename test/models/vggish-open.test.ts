import assert from 'node:assert/strict';
import { closeSync,mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, truncateSync, utimesSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { engineSchema } from '../../src/config/sections/engine.js';
import { isEarshotError } from '../../src/errors.js';
import { embedPatches, openVggish, writeFormulaVggishDir } from '../../src/models/vggish/index.js';
import { f32 } from '../helpers/numeric.js';
import { sharedPath } from '../helpers/shared.js';

// openVggish: first start verifies weights.bin and compiles into <dir>/cache; later starts
// serve the compiled graph without reading weights.bin until its size/mtime change.

let root = '';
let n = 0;
const onnx = engineSchema.parse({ kind: 'onnx', threads: 2 });

before(() => {
  root = mkdtempSync(join(tmpdir(), 'earshot-open-'));
});

/** Each test damages its own copy, so tests stay independent of order. */
function freshDir(): string {
  const dir = join(root, `vggish-${n++}`);
  writeFormulaVggishDir(dir); // no PCA: raw embeddings only
  return dir;
}
after(() => rmSync(root, { recursive: true, force: true }));

async function goldenRelDiff(dir: string): Promise<number> {
  const m = await openVggish(dir, onnx);
  try {
    assert.equal(m.pca, undefined);
    const input = f32(sharedPath('golden', 'vggish-net', 'input.f32')).subarray(0, 2 * 96 * 64);
    const ref = f32(sharedPath('golden', 'vggish-net', 'embedding.f32')).subarray(0, 256);
    const got = await embedPatches(m.engine, input, 2, 1);
    let d = 0;
    let mx = 0;
    ref.forEach((v, i) => {
      d = Math.max(d, Math.abs(v - got[i]!));
      mx = Math.max(mx, Math.abs(v));
    });
    return d / mx;
  } finally {
    await m.engine.dispose();
  }
}

test('second start uses the compiled cache without reading weights.bin; a changed file is re-verified', async () => {
  const dir = freshDir();
  const wpath = join(dir, 'weights.bin');
  // Whole-second mtimes survive utimes exactly (fractional ones can round by a nanosecond).
  const t = Math.floor(Date.now() / 1000) - 60;
  utimesSync(wpath, t, t);
  assert.ok((await goldenRelDiff(dir)) < 1e-3);
  const st = statSync(wpath);
  // Damage one byte but keep size and mtime: only a start that skips weights.bin still works.
  const fd = openSync(wpath, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, 1000);
  b[0] = b[0]! ^ 0xff;
  writeSync(fd, b, 0, 1, 1000);
  closeSync(fd);
  utimesSync(wpath, t, t);
  assert.equal(statSync(wpath).mtimeMs, st.mtimeMs);
  assert.ok((await goldenRelDiff(dir)) < 1e-3, 'served from the compiled cache');
  // A newer mtime marks the cache stale: the start re-reads weights.bin and its sha256 fails.
  utimesSync(wpath, t + 5, t + 5);
  await assert.rejects(openVggish(dir, onnx), (e) => isEarshotError(e, 'MODEL_CHECKSUM_MISMATCH'));
});

test('a damaged cache entry is dropped and recompiled from weights.bin', async () => {
  const dir = freshDir();
  assert.ok((await goldenRelDiff(dir)) < 1e-3); // ensures a cache entry exists
  const cache = join(dir, 'cache');
  const data = readdirSync(cache).find((f) => f.endsWith('.onnx.data'))!;
  truncateSync(join(cache, data), 4096);
  assert.ok((await goldenRelDiff(dir)) < 1e-3);
  assert.ok(statSync(join(cache, data)).size > 200e6, 'data file rewritten in full');
});

test('openVggish rejects a directory holding another architecture', async () => {
  const other = join(root, 'other');
  const fields = { name: 'y', architecture: 'yamnet', version: '1', input: { name: 'x', shape: [1] }, outputs: [] };
  const m = { format: 'earshot-model', formatVersion: 1, ...fields, weights: { file: 'weights.bin', sha256: '', tensors: [] } };
  (await import('node:fs')).mkdirSync(other);
  (await import('node:fs')).writeFileSync(join(other, 'manifest.json'), JSON.stringify({ ...m, architecture: 'yamnet' }));
  await assert.rejects(openVggish(other, onnx), (e) => isEarshotError(e, 'MODEL_INVALID') && /yamnet/.test(e.message));
});
