import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { readModelDir } from '../../src/models/modeldir.js';
import { dprime } from '../../src/train/metrics.js';
import { runCli } from '../helpers/cli.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';

const MODEL = join(projectRoot, 'models/classifier');

test('the shipped classifier reaches mAP >= 0.25 on the AudioSet eval split (earshot eval)', async () => {
  const md = readModelDir(MODEL); // verifies the weights' sha256
  assert.equal(md.manifest.architecture, 'decision_level_multi_attention');
  assert.equal(md.labels.length, 527);
  const r = await runCli(['eval', '--model', MODEL, '--data', sharedPath('data/audioset/features/eval'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rep = JSON.parse(r.stdout) as { mAP: number; AUC: number; dprime: number; clips: number };
  assert.equal(rep.clips, 10114);
  assert.ok(rep.mAP >= 0.25, `mAP ${rep.mAP}`);
  assert.ok(rep.AUC > 0.9, `AUC ${rep.AUC}`);
  // Phi^-1 itself is checked against scipy in test/train/metrics.test.ts.
  assert.ok(Math.abs(rep.dprime - dprime(rep.AUC)) < 1e-12 && rep.dprime > 1.5, `d' ${rep.dprime}`);
});
