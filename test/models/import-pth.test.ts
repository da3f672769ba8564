import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import type { Weights } from '../../src/models/contracts.js';
import { readPth } from '../../src/models/import/pth.js';
import { readPcaSource, readVggishSource } from '../../src/models/import/vggish.js';
import { writeModelDir } from '../../src/models/modeldir.js';
import { readPcaParams } from '../../src/models/vggish/postprocess.js';
import { miniVggishTable, seededWeights } from '../helpers/import-fixtures.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';

const table = miniVggishTable();
const w = seededWeights(table, 21);
const wide = new Map(w);
wide.set('vggish/conv2/weights', { shape: [3, 3, 4, 9], data: new Float32Array(3 * 3 * 4 * 9) });
let dir = '';
const f = (name: string): string => join(dir, name);

// Every fixture comes from one real torch.save run (importing torch costs seconds).
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-pth-'));
  const fields = { name: 't', architecture: 'vggish', version: '0', input: { name: 'patches', shape: [96, 64, 1] }, outputs: [] };
  writeModelDir(f('tf'), fields, w);
  writeModelDir(f('tf-wide'), fields, wide);
  const npz = sharedPath('models/vggish/vggish_pca_params.npz');
  const jobs = [
    { model_dir: f('tf'), out: f('strided.pth') },
    { model_dir: f('tf'), out: f('contiguous.pth'), contiguous: true },
    { model_dir: f('tf'), out: f('legacy.pth'), legacy: true },
    { model_dir: f('tf'), out: f('pproc.pth'), pproc: npz, pca_out: f('pca.pth') },
    { model_dir: f('tf'), out: f('pproc-legacy.pth'), pproc: npz, pca_out: f('pca-legacy.pth'), legacy: true },
    { model_dir: f('tf'), out: f('extra.pth'), extra_key: 'features.99.weight' },
    { model_dir: f('tf-wide'), out: f('wide.pth') },
    { out: f('evil.pth'), evil: true },
  ];
  writeFileSync(f('jobs.json'), JSON.stringify(jobs));
  execFileSync('/usr/bin/python3', [join(projectRoot, 'test/fixtures/make_pth.py'), '--jobs', f('jobs.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
});

after(() => rmSync(dir, { recursive: true, force: true }));

function assertSameWeights(got: Weights, want: Weights): void {
  assert.deepEqual([...got.keys()], [...want.keys()]);
  for (const [name, t] of want) {
    assert.deepEqual(got.get(name)!.shape, t.shape, name);
    assert.deepEqual(got.get(name)!.data, t.data, name);
  }
}

for (const [label, file] of [
  ['zip format, permuted (strided) views', 'strided.pth'],
  ['zip format, contiguous tensors', 'contiguous.pth'],
  ['legacy (pre-1.6) format', 'legacy.pth'],
] as const) {
  test(`torchvggish .pth (${label}) imports to the exact TF-layout weights`, () => {
    const src = readVggishSource(f(file), { table });
    assert.equal(src.format, 'torch-pth');
    assertSameWeights(src.weights, w);
    assert.equal(src.pca, undefined);
  });
}

test('raw .pth reader keeps torch names and layouts (OIHW conv, [out,in] linear)', () => {
  const r = readPth(f('strided.pth'));
  const conv2 = r.tensors.find((t) => t.name === 'features.3.weight')!;
  assert.deepEqual(conv2.shape, [8, 4, 3, 3]);
  // OIHW [o=5, i=2, h=1, w=2] must equal HWIO [h=1, w=2, i=2, o=5].
  const hwio = w.get('vggish/conv2/weights')!.data;
  assert.equal(conv2.data[((5 * 4 + 2) * 3 + 1) * 3 + 2], hwio[((1 * 3 + 2) * 4 + 2) * 8 + 5]);
  const fc2 = r.tensors.find((t) => t.name === 'embeddings.4.weight')!;
  assert.deepEqual(fc2.shape, [8, 32]);
  assert.equal(fc2.data[3 * 32 + 17], w.get('vggish/fc2/weights')!.data[17 * 8 + 3]);
});

test('PCA params: pproc tensors in the state_dict and the separate torchvggish pca .pth (numpy arrays) both load', () => {
  const ref = readPcaParams(sharedPath('models/vggish/vggish_pca_params.npz'));
  for (const suffix of ['', '-legacy']) {
    const src = readVggishSource(f(`pproc${suffix}.pth`), { table });
    assertSameWeights(src.weights, w);
    const ev = src.pca!.get('pca/eigen_vectors')!;
    const means = src.pca!.get('pca/means')!;
    assert.deepEqual(means.shape, [128]);
    assert.deepEqual(ev.data, Float32Array.from(ref.eigenVectors));
    assert.deepEqual(means.data, Float32Array.from(ref.means));
    // The separate params file holds float64 numpy arrays, rebuilt through numpy's pickle reconstructors.
    const sep = readPcaSource(f(`pca${suffix}.pth`));
    assert.ok('tensors' in sep);
    assert.deepEqual(sep.tensors.get('pca/eigen_vectors')!.data, Float32Array.from(ref.eigenVectors));
    assert.deepEqual(sep.tensors.get('pca/means')!.data, Float32Array.from(ref.means));
  }
});

test('unknown torch keys and wrong shapes are named errors', () => {
  assert.throws(() => readVggishSource(f('extra.pth'), { table }), (e) => isEarshotError(e, 'MODEL_UNKNOWN_VARIABLE') && /features\.99\.weight/.test(e.message));
  // conv2 wider than the table: the error quotes the torch key, the official name and both torch-layout shapes.
  assert.throws(
    () => readVggishSource(f('wide.pth'), { table }),
    (e) => isEarshotError(e, 'MODEL_SHAPE_MISMATCH') && /features\.3\.weight/.test(e.message) && /vggish\/conv2\/weights/.test(e.message) && /\[9,4,3,3\]/.test(e.message) && /\[8,4,3,3\]/.test(e.message),
  );
});

test('pickles referencing anything but tensor/container constructors are refused, not executed', () => {
  assert.throws(() => readPth(f('evil.pth')), (e) => isEarshotError(e, 'DATA_UNSUPPORTED') && /(posix|os)\.system/.test(e.message));
});
