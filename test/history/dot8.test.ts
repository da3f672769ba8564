import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import { dot8Kernel } from '../../src/history/dot8-wasm.js';
import { codeNorm, topCosine } from '../../src/history/embedding.js';
import { DOT8_WASM_BASE64 } from '../../src/history/wasm/dot8-bytes.js';
import { rng } from '../helpers/rng.js';

function matrix(rows: number, dim: number, seed: number): { codes: Int8Array; norms: Float32Array } {
  const r = rng(seed);
  const codes = Int8Array.from({ length: rows * dim }, () => Math.round((r() * 2 - 1) * 127));
  // A few zero rows (never match) and the extremes (-127/127 everywhere: the largest sums).
  codes.fill(0, 3 * dim, 4 * dim);
  codes.fill(127, 5 * dim, 6 * dim);
  codes.fill(-127, 6 * dim, 7 * dim);
  const norms = Float32Array.from({ length: rows }, (_, i) => codeNorm(codes.subarray(i * dim, (i + 1) * dim)));
  return { codes, norms };
}

test('the SIMD int8 kernel equals the JS loop exactly: dots, top-k, skip; across chunk boundaries', () => {
  for (const [dim, rows] of [
    [1024, 2600],
    [128, 20_000],
    [16, 100],
  ] as const) {
    const { codes, norms } = matrix(rows, dim, dim);
    const q = Int8Array.from(codes.subarray(7 * dim, 8 * dim));
    q.fill(-127, 0, 16);
    const kernel = dot8Kernel(dim);
    assert.ok(kernel, `kernel for ${dim}`);
    const all = new Int32Array(rows);
    kernel(q, codes, rows, (r0, dots) => all.set(dots, r0));
    for (let r = 0; r < rows; r += 97) {
      let d = 0;
      for (let i = 0; i < dim; i++) d += q[i]! * codes[r * dim + i]!;
      assert.equal(all[r], d, `row ${r} dim ${dim}`);
    }
    const skip = (r: number) => r % 5 === 0;
    assert.deepEqual(topCosine(q, codes, norms, rows, 25, skip, true), topCosine(q, codes, norms, rows, 25, skip, false));
    assert.deepEqual(topCosine(q, codes, norms, rows, 10, undefined, true), topCosine(q, codes, norms, rows, 10, undefined, false));
  }
  assert.equal(dot8Kernel(1000), null, 'not a multiple of 16: the JS loop');
});

test('dot8-bytes.ts is dot8.wat compiled', (t) => {
  if (spawnSync('wat2wasm', ['--version']).status !== 0) return t.skip('wat2wasm (Debian wabt) not installed');
  const dir = mkdtempSync(join(tmpdir(), 'earshot-dot8-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync('wat2wasm', [new URL('../../src/history/wasm/dot8.wat', import.meta.url).pathname, '-o', join(dir, 'd.wasm')]);
  assert.equal(r.status, 0, r.stderr?.toString());
  assert.equal(readFileSync(join(dir, 'd.wasm')).toString('base64'), DOT8_WASM_BASE64);
});
