import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { initParams, type NetSpec } from '../../src/classify/net.js';
import { loadClassifier, saveClassifier } from '../../src/classify/store.js';
import { parseConfig } from '../../src/config/load.js';
import { dequantize,embedPatches, openVggish, postprocess, writeFormulaVggishDir } from '../../src/models/vggish/index.js';
import { loadVggishClassifierTagger } from '../../src/models/vggish/tagger.js';
import { defaultTaggerLoader, modelDirFor } from '../../src/pipeline/taggers.js';
import { rng } from '../helpers/rng.js';
import { sharedPath } from '../helpers/shared.js';
import { tempDir } from '../helpers/tmp.js';

const tmp = tempDir('vggtag');
const vggishDir = join(tmp, 'vggish');
const classifierDir = join(tmp, 'classifier');
const spec: NetSpec = { modelType: 'decision_level_multi_attention', timeSteps: 10, inputDim: 128, hidden: 64, classes: 7 };
const labels = Array.from({ length: spec.classes }, (_, i) => ({ index: i, id: `/m/x${i}`, name: `Label ${i}` }));

test('VGGish + classifier tagger scores the rolling window of post-processed embeddings', async () => {
  writeFormulaVggishDir(vggishDir, sharedPath('models', 'vggish', 'vggish_pca_params.npz'));
  saveClassifier(classifierDir, spec, initParams(spec, rng(7)), labels);
  const engine = parseConfig({}).engine;
  const tagger = await loadVggishClassifierTagger(vggishDir, classifierDir, engine);
  const rand = rng(11);
  const patches = Array.from({ length: 12 }, (_, i) => ({ data: Float32Array.from({ length: 96 * 64 }, () => rand() * 8 - 6), index: i, startSeconds: i * 0.96, frames: 96, bands: 64 }));
  try {
    assert.deepEqual(tagger.labels, labels);
    const session = tagger.openSession();
    const got: Float32Array[] = [];
    for (const p of patches) got.push(await session.tag(p));
    // Independent path: embed all patches at once, post-process, build each window by hand.
    const model = await openVggish(vggishDir, engine);
    const all = new Float32Array(patches.length * 96 * 64);
    patches.forEach((p, i) => all.set(p.data, i * 96 * 64));
    const q = postprocess(await embedPatches(model.engine, all, patches.length, 4), patches.length, model.pca!);
    await model.engine.dispose();
    const { head } = loadClassifier(classifierDir);
    for (const k of [0, 4, 9, 11]) {
      const first = Math.max(0, k - 9);
      const window = new Float32Array(10 * 128).fill(-1); // zero-padded uint8 rows dequantize to -1
      window.set(dequantize(q.subarray(first * 128, (k + 1) * 128)));
      const want = await head.predict(window, 1);
      assert.equal(got[k]!.length, spec.classes);
      for (let c = 0; c < spec.classes; c++) assert.ok(Math.abs(got[k]![c]! - want[c]!) < 1e-5, `patch ${k} class ${c}: ${got[k]![c]} vs ${want[c]}`);
    }
    assert.notDeepEqual(got[11], got[0]);
  } finally {
    await tagger.dispose();
  }
});

test('auto tagger picks VGGish + classifier when both are installed, else YAMNet', async () => {
  const src = { id: 's', kind: 'file' as const, path: '/x.wav', loop: false, realtime: true };
  const both = parseConfig({ models: { vggishDir, classifierDir, yamnetDir: join(tmp, 'yamnet') } });
  assert.equal(modelDirFor(src, both), classifierDir);
  const noVggish = parseConfig({ models: { vggishDir: join(tmp, 'none'), classifierDir, yamnetDir: join(tmp, 'yamnet') } });
  assert.equal(modelDirFor(src, noVggish), join(tmp, 'yamnet'));
  const tagger = await defaultTaggerLoader(classifierDir, both);
  try {
    assert.equal(tagger.name, 'vggish+classifier');
    assert.equal(tagger.labels.length, spec.classes);
  } finally {
    await tagger.dispose();
  }
});
