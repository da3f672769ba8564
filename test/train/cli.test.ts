import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { readModelDir } from '../../src/models/modeldir.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

// A few real AudioSet TFRecords (copied to a temp dir) and a small hidden size keep this fast.
function subset(dir: string, split: string, files: number): string {
  const src = sharedPath('data/audioset/features', split);
  const out = join(dir, split);
  mkdirSync(out);
  for (const f of readdirSync(src)
    .filter((n) => n.endsWith('.tfrecord'))
    .sort()
    .slice(0, files))
    copyFileSync(join(src, f), join(out, f));
  return out;
}

test('earshot train (with --resume), eval and predict on real AudioSet TFRecords', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-train-cli-'));
  try {
    const train = subset(dir, 'bal_train', 40);
    const val = subset(dir, 'eval', 20);
    const cfg = join(dir, 'config.json');
    writeFileSync(cfg, JSON.stringify({ train: { hiddenUnits: 32 } }));
    const labels = sharedPath('data/audioset/metadata/class_labels_indices.csv');
    const out = join(dir, 'model');
    const common = ['-c', cfg, 'train', '--data', train, '--val', val, '--labels', labels, '--batch-size', '64', '--eval-every', '2', '--checkpoint-every', '2', '--out', out];
    const first = await runCli([...common, '--iterations', '2']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /iteration 2: validation mAP 0\.\d+/);
    const second = await runCli([...common, '--iterations', '4', '--resume']);
    assert.equal(second.code, 0, second.stderr);
    const md = readModelDir(out);
    assert.equal(md.manifest.architecture, 'decision_level_multi_attention');
    assert.equal(md.labels.length, 527);
    assert.equal(md.labels[0]!.name, 'Speech');
    const history = JSON.parse(readFileSync(join(out, 'history.json'), 'utf8')) as Array<{ iteration: number; loss: number; valMAP?: number }>;
    // Resumed from iteration 2: the history continues, it does not restart.
    assert.deepEqual(
      history.map((h) => h.iteration),
      [1, 2, 3, 4],
    );
    assert.equal(history.filter((h) => h.valMAP !== undefined).length, 2);
    assert.ok(readFileSync(join(out, 'training-curve.svg'), 'utf8').startsWith('<svg'));
    assert.equal((md.manifest.provenance as { data: { licence: string } }).data.licence, 'CC BY 4.0');

    const report = join(dir, 'report');
    const ev = await runCli(['eval', '--model', out, '--data', val, '--json', '--report', report]);
    assert.equal(ev.code, 0, ev.stderr);
    const r = JSON.parse(ev.stdout) as { mAP: number; AUC: number; dprime: number; clips: number; perClass: Array<{ index: number; id: string; name: string; ap: number | null; positives: number }> };
    assert.ok(r.clips > 50);
    assert.ok(r.mAP > 0 && r.mAP < 1 && r.AUC > 0 && r.AUC < 1 && Number.isFinite(r.dprime));
    assert.equal(r.perClass.length, 527);
    assert.ok(
      r.perClass.some((c) => c.ap === null && c.positives === 0),
      'classes without positives are reported as skipped',
    );
    for (const f of ['eval.json', 'eval.md', 'per-class-ap.svg', 'training-curve.svg']) assert.ok(existsSync(join(report, f)), f);
    assert.match(readFileSync(join(report, 'eval.md'), 'utf8'), /\| clips \| mAP \|/);

    const pr = await runCli(['predict', '--model', out, '--data', val, '--top', '3', '--json']);
    assert.equal(pr.code, 0, pr.stderr);
    const lines = pr.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { videoId: string; top: Array<{ score: number }> });
    assert.equal(lines.length, r.clips);
    assert.equal(lines[0]!.top.length, 3);
    assert.ok(lines[0]!.top[0]!.score >= lines[0]!.top[2]!.score);

    const bad = await runCli(['eval', '--model', join(dir, 'nope'), '--data', val]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /MODEL_NOT_FOUND/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
