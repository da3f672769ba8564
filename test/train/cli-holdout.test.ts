import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { loadClassifier } from '../../src/classify/store.js';
import { readModelDir } from '../../src/models/modeldir.js';
import { runCli } from '../helpers/cli.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';

function subset(dir: string, split: string, files: number): string {
  const src = sharedPath('data/audioset/features', split);
  const out = join(dir, 'audioset', 'features', split);
  mkdirSync(out, { recursive: true });
  for (const f of readdirSync(src)
    .filter((n) => n.endsWith('.tfrecord'))
    .sort()
    .slice(0, files))
    copyFileSync(join(src, f), join(out, f));
  return out;
}

/** No absolute path of the machine (the temp dir, the shared data dir, file: URLs) in a model's text files. */
function assertNoMachinePaths(text: string, where: string, dirs: string[]): void {
  assert.doesNotMatch(text, /file:\/\//, `${where} has a file:// URL`);
  for (const d of dirs) assert.ok(!text.includes(d), `${where} names ${d}`);
}

test('train without --val holds out a stratified split; provenance and reports carry no machine paths; eval prints validation beside', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-holdout-'));
  try {
    const train = subset(dir, 'bal_train', 40);
    const evalDir = subset(dir, 'eval', 10);
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ train: { hiddenUnits: 32 } }));
    const labels = sharedPath('data/audioset/metadata/class_labels_indices.csv');
    const out = join(dir, 'model');
    const r = await runCli([
      '-c',
      cfg,
      'train',
      '--data',
      train,
      '--labels',
      labels,
      '--batch-size',
      '64',
      '--iterations',
      '3',
      '--eval-every',
      '3',
      '--val-fraction',
      '0.2',
      '--split-seed',
      '5',
      '--mixup',
      '0.3',
      '--lr-schedule',
      'cosine',
      '--ema',
      '0.9',
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const m = /training \S+ on (\d+) clips, validating on (\d+)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    const [nTrain, nVal] = [Number(m[1]), Number(m[2])];
    assert.ok(Math.abs(nVal / (nTrain + nVal) - 0.2) < 0.06, `${nVal} of ${nTrain + nVal} held out`);
    assert.match(r.stderr, /iteration 3: validation mAP 0\.\d+ AUC 0\.\d+ \(moving average: mAP 0\.\d+\)/);

    const md = readModelDir(out);
    const prov = md.manifest.provenance as {
      data: { train: { path: string; sha256: string; clips: number }; validation: { path: string }; split: { seed: number; fraction: number; from: { path: string } } };
      training: { mixupAlpha: number; emaDecay: number; lrSchedule: string };
    };
    assert.equal(prov.data.split.seed, 5);
    assert.equal(prov.data.split.fraction, 0.2);
    assert.equal(prov.data.split.from.path, 'features/bal_train');
    assert.equal(prov.data.train.path, 'features/bal_train#train');
    assert.equal(prov.data.train.clips, nTrain);
    assert.match(prov.data.train.sha256, /^[0-9a-f]{64}$/);
    assert.equal(prov.data.validation.path, 'features/bal_train#validation');
    assert.deepEqual([prov.training.mixupAlpha, prov.training.emaDecay, prov.training.lrSchedule], [0.3, 0.9, 'cosine']);

    const th = JSON.parse(readFileSync(join(out, 'thresholds.json'), 'utf8')) as { classes: Array<{ threshold: number | null; positives: number }> };
    assert.equal(th.classes.length, 527);
    assert.ok(th.classes.every((c) => c.positives > 0 === (c.threshold !== null)));
    const val = JSON.parse(readFileSync(join(out, 'validation.json'), 'utf8')) as { clips: number; mAP: number; data: string };
    assert.equal(val.clips, nVal);
    assert.equal(val.data, 'features/bal_train#validation');

    const report = join(dir, 'report');
    const ev = await runCli(['eval', '--model', out, '--data', evalDir, '--report', report]);
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stdout, /^clips \d+ {2}mAP 0\.\d{4} {2}AUC 0\.\d{4} {2}d' -?\d\.\d{3}/);
    assert.match(ev.stdout, new RegExp(`validation \\(features/bal_train#validation, ${nVal} clips\\) {2}mAP ${val.mAP.toFixed(4)}`));
    const mdText = readFileSync(join(report, 'eval.md'), 'utf8');
    assert.match(mdText, /\| features\/eval \| \d+ \| 0\.\d{4} \|/);
    assert.match(mdText, /\| features\/bal_train#validation \(validation: every choice was made here\) \|/);
    assert.match(mdText, /!\[training curve\]\(training-curve\.svg\)/);
    assert.ok(existsSync(join(report, 'training-curve.svg')));
    const machine = [dir, sharedPath('data')];
    for (const f of ['manifest.json', 'thresholds.json', 'validation.json']) assertNoMachinePaths(readFileSync(join(out, f), 'utf8'), f, machine);
    for (const f of ['eval.json', 'eval.md']) assertNoMachinePaths(readFileSync(join(report, f), 'utf8'), f, machine);

    // A second seed on the same hold-out ensembles with the first; a model validated on another hold-out is refused.
    const base = ['-c', cfg, 'train', '--data', train, '--labels', labels, '--batch-size', '64', '--iterations', '3', '--eval-every', '3', '--val-fraction', '0.2'];
    const out2 = join(dir, 'model2');
    const r2 = await runCli([...base, '--split-seed', '5', '--seed', '2', '--model-type', 'decision_level_average_pooling', '--out', out2]);
    assert.equal(r2.code, 0, r2.stderr);
    const ens = join(dir, 'ens');
    const e = await runCli(['ensemble', out, out2, '--data', train, '--out', ens]);
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stderr, /mean of .+ \+ .+: validation mAP 0\.\d{4}/);
    const ev2 = JSON.parse(readFileSync(join(ens, 'validation.json'), 'utf8')) as { clips: number; mAP: number; notes: string[] };
    assert.equal(ev2.clips, nVal);
    assert.ok(ev2.notes.some((n) => n.includes('(shipped)')));
    const emd = readModelDir(ens);
    // Greedy selection keeps the second member only if it raised validation mAP.
    const kept = ev2.notes.find((n) => n.includes('(shipped)'))!.includes(' + ') ? 2 : 1;
    const memberCount = existsSync(join(ens, 'ensemble.json')) ? (JSON.parse(readFileSync(join(ens, 'ensemble.json'), 'utf8')) as { members: unknown[] }).members.length : 1;
    assert.equal(memberCount, kept);
    assert.equal(loadClassifier(ens).members.length, kept);
    assert.ok(emd.manifest.provenance && 'ensemble' in emd.manifest.provenance);
    assertNoMachinePaths(readFileSync(join(ens, 'manifest.json'), 'utf8'), 'ensemble manifest.json', machine);
    const out3 = join(dir, 'model3');
    assert.equal((await runCli([...base, '--split-seed', '6', '--out', out3])).code, 0);
    const refused = await runCli(['ensemble', out, out3, '--data', train, '--out', join(dir, 'ens2')]);
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /validated on another hold-out \(seed 6/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the shipped classifier names its data relative to the data root, not by machine path', () => {
  const dir = join(projectRoot, 'models/classifier');
  for (const f of readdirSync(dir).filter((n) => /\.(json|md)$/.test(n))) {
    const text = readFileSync(join(dir, f), 'utf8');
    assertNoMachinePaths(text, f, ['/work/', '/home/', '/tmp/']);
  }
  const prov = readModelDir(dir).manifest.provenance as { data: { train: { path: string; sha256: string } } };
  assert.equal(prov.data.train.path.split('#')[0], 'features/bal_train');
  assert.match(prov.data.train.sha256, /^[0-9a-f]{64}$/);
});
