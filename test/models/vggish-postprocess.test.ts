import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import { validateVggishWeights, VGGISH_VARIABLES } from '../../src/models/vggish/network.js';
import { parseNpz, readNpz } from '../../src/models/vggish/npz.js';
import { dequantize, postprocess, readPcaParams } from '../../src/models/vggish/postprocess.js';
import { f32, maxAbsDiff } from '../helpers/numeric.js';
import { sharedPath } from '../helpers/shared.js';

const golden = (name: string) => sharedPath('golden', 'vggish-net', name);
const pcaPath = () => sharedPath('models', 'vggish', 'vggish_pca_params.npz');

test('reads the real vggish_pca_params.npz (deflated float64)', () => {
  const arrays = readNpz(pcaPath());
  assert.deepEqual(arrays.get('pca_eigen_vectors')!.shape, [128, 128]);
  assert.equal(arrays.get('pca_means')!.dtype, '<f8');
  const pca = readPcaParams(pcaPath());
  // Cross-check against numpy's own reading of the same file.
  const r = spawnSync('/usr/bin/python3', ['-c', `import numpy as np, json
d = np.load(${JSON.stringify(pcaPath())})
e, m = d['pca_eigen_vectors'], d['pca_means']
print(json.dumps([float(e.sum()), float(e[3, 5]), float(e[127, 0]), float(m.sum()), float(m[7])]))`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const [esum, e35, e127, msum, m7] = JSON.parse(r.stdout) as number[];
  assert.ok(Math.abs(pca.eigenVectors.reduce((a, b) => a + b, 0) - esum!) < 1e-9);
  assert.equal(pca.eigenVectors[3 * 128 + 5], e35);
  assert.equal(pca.eigenVectors[127 * 128], e127);
  assert.ok(Math.abs(pca.means.reduce((a, b) => a + b, 0) - msum!) < 1e-9);
  assert.equal(pca.means[7], m7);
});

test('golden postprocess: postprocess_input -> postprocess_output and embedding -> postprocessed within ±1', () => {
  const pca = readPcaParams(pcaPath());
  const mid = postprocess(f32(golden('postprocess_input.f32')), 9, pca);
  assert.ok(maxAbsDiff(mid, readFileSync(golden('postprocess_output.u8'))) <= 1);
  assert.ok(new Set(mid).size > 50, 'mid-range input spreads over many levels');
  const full = postprocess(f32(golden('embedding.f32')), 9, pca);
  assert.ok(maxAbsDiff(full, readFileSync(golden('postprocessed.u8'))) <= 1);
  assert.throws(() => postprocess(new Float32Array(100), 1, pca), (e) => isEarshotError(e, 'INPUT_INVALID'));
});

test('postprocess clips to [-2, 2] and quantises floor((x + 2) * 255 / 4); dequantize is (q - 128) / 128', () => {
  const eye = new Float64Array(128 * 128);
  for (let i = 0; i < 128; i++) eye[i * 129] = 1;
  const pca = { eigenVectors: eye, means: new Float64Array(128).fill(1) };
  const emb = new Float32Array(128);
  emb.set([1, 3, 3.5, -5, 0, 2.999, 1.5]);
  const q = postprocess(emb, 1, pca);
  assert.deepEqual([...q.subarray(0, 7)], [127, 255, 255, 0, 63, 254, 159]);
  assert.deepEqual([...dequantize(Uint8Array.of(0, 128, 255, 64))], [-1, 0, 127 / 128, -0.5]);
});

function python(code: string): void {
  const r = spawnSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test('npz written by numpy: stored and deflated entries, float32, Fortran order, scalars', () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-npz-'));
  try {
    python(`import numpy as np
a = np.arange(24, dtype='<f8').reshape(2, 3, 4) / 7
np.savez('${dir}/plain.npz', a=a, f=np.asfortranarray(a), s=np.float32(2.5), v=np.array([1.5, -2], dtype='<f4'))
np.savez_compressed('${dir}/packed.npz', f=np.asfortranarray(a).astype('<f4'))`);
    const plain = readNpz(join(dir, 'plain.npz'));
    const expected = Array.from({ length: 24 }, (_, i) => i / 7);
    assert.deepEqual([...plain.get('a')!.data], expected);
    assert.deepEqual(plain.get('f')!.shape, [2, 3, 4]);
    assert.deepEqual([...plain.get('f')!.data], expected, 'Fortran-order data comes back in C order');
    assert.deepEqual(plain.get('s')!.shape, []);
    assert.deepEqual([...plain.get('s')!.data], [2.5]);
    assert.deepEqual([...plain.get('v')!.data], [1.5, -2]);
    const packed = readNpz(join(dir, 'packed.npz')).get('f')!;
    assert.equal(packed.dtype, '<f4');
    packed.data.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-6));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('corrupt, truncated or incomplete npz files fail with DATA_* errors naming the file or key', () => {
  const good = new Uint8Array(readFileSync(pcaPath()));
  const src = 'pca.npz';
  assert.throws(() => parseNpz(good.subarray(0, good.length - 30), src), (e) => isEarshotError(e, 'DATA_CORRUPT') && e.message.startsWith(src));
  assert.throws(() => parseNpz(good.subarray(0, 40_000), src), (e) => isEarshotError(e, 'DATA_CORRUPT'));
  const flipped = good.slice();
  flipped[200] = flipped[200]! ^ 0xff; // inside the deflated pca_means stream
  assert.throws(() => parseNpz(flipped, src), (e) => isEarshotError(e, 'DATA_CORRUPT') && /pca_means/.test(e.message));
  assert.throws(() => parseNpz(new TextEncoder().encode('not a zip at all, just some text........'), src), (e) => isEarshotError(e, 'DATA_CORRUPT'));
  assert.throws(() => readNpz('/nonexistent/x.npz'), (e) => isEarshotError(e, 'DATA_NOT_FOUND') && /x\.npz/.test(e.message));
  const dir = mkdtempSync(join(tmpdir(), 'earshot-npz-'));
  try {
    python(`import numpy as np\nnp.savez('${dir}/partial.npz', pca_means=np.zeros(128), other=np.zeros(3, dtype='<i4'))`);
    assert.throws(() => readPcaParams(join(dir, 'partial.npz')), (e) => isEarshotError(e, 'DATA_UNSUPPORTED') && /<i4/.test(e.message));
    python(`import numpy as np\nnp.savez('${dir}/partial2.npz', pca_means=np.zeros(128))`);
    assert.throws(() => readPcaParams(join(dir, 'partial2.npz')), (e) => isEarshotError(e, 'DATA_NOT_FOUND') && /pca_eigen_vectors/.test(e.message));
    python(`import numpy as np\nnp.savez('${dir}/wrong.npz', pca_means=np.zeros(127), pca_eigen_vectors=np.zeros((128, 128)))`);
    assert.throws(() => readPcaParams(join(dir, 'wrong.npz')), (e) => isEarshotError(e, 'DATA_CORRUPT') && /pca_means/.test(e.message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('validateVggishWeights names the wrong, unknown or missing tensor', () => {
  const full = () => new Map([...VGGISH_VARIABLES].map(([n, s]) => [n, { shape: s, data: new Float32Array(s.reduce((a, b) => a * b, 1)) }]));
  validateVggishWeights(full());
  const bad = full();
  bad.set('vggish/conv2/weights', { shape: [3, 3, 128, 64], data: new Float32Array(3 * 3 * 128 * 64) });
  assert.throws(() => validateVggishWeights(bad), (e) => isEarshotError(e, 'MODEL_SHAPE_MISMATCH') && /vggish\/conv2\/weights/.test(e.message) && /3,3,64,128/.test(e.message));
  const extra = full();
  extra.set('vggish/conv5/weights', { shape: [1], data: new Float32Array(1) });
  assert.throws(() => validateVggishWeights(extra), (e) => isEarshotError(e, 'MODEL_UNKNOWN_VARIABLE') && /conv5/.test(e.message));
  const missing = full();
  missing.delete('vggish/fc2/biases');
  assert.throws(() => validateVggishWeights(missing), (e) => isEarshotError(e, 'MODEL_INVALID') && /vggish\/fc2\/biases/.test(e.message));
});
