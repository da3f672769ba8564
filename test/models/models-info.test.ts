import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { modelsSchema } from '../../src/config/sections/models.js';
import { isEarshotError } from '../../src/errors.js';
import { inspectModelDir, listConfiguredModels } from '../../src/models/inspect.js';
import { runCli } from '../helpers/cli.js';
import { projectRoot } from '../helpers/shared.js';

// Issue #20 gap 7: `models --help` promised inspect; `models list` and `models inspect DIR` now exist.
const shipped = join(projectRoot, 'models/classifier');

test('inspectModelDir reports the shipped classifier and refuses a corrupted copy', () => {
  const s = inspectModelDir(shipped);
  assert.equal(s.architecture, 'decision_level_multi_attention');
  assert.equal(s.labels.count, 527);
  assert.equal(s.labels.first[0], 'Speech');
  assert.deepEqual(s.outputs.map((o) => o.shape), [[527]]);
  assert.ok(s.weights.parameters > 1_000_000 && s.weights.bytes === s.weights.parameters * 4);
  const dir = mkdtempSync(join(tmpdir(), 'earshot-inspect-'));
  try {
    const bad = join(dir, 'classifier');
    cpSync(shipped, bad, { recursive: true });
    const w = readFileSync(join(bad, 'weights.bin'));
    w[100] = w[100]! ^ 0xff;
    writeFileSync(join(bad, 'weights.bin'), w);
    assert.throws(() => inspectModelDir(bad), (e) => isEarshotError(e) && e.code !== 'INTERNAL' && /sha256|checksum/i.test(e.message));
    const r = listConfiguredModels(modelsSchema.parse({ yamnetDir: join(dir, 'none'), vggishDir: '', classifierDir: bad }));
    assert.deepEqual(r.entries.map((e) => [e.kind, e.status]), [['yamnet', 'missing'], ['vggish', 'missing'], ['classifier', 'invalid']]);
    assert.match(r.entries[0]!.problem!, /earshot models import yamnet <yamnet\.tflite> --out .*none/);
    assert.equal(r.tagger, 'none');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('earshot models list and models inspect (CLI)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-models-list-'));
  try {
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ models: { yamnetDir: join(dir, 'yamnet'), classifierDir: shipped } }));
    const list = await runCli(['-c', cfg, 'models', 'list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const l = JSON.parse(list.stdout) as { entries: Array<{ kind: string; status: string }> };
    assert.deepEqual(l.entries.map((e) => e.status), ['missing', 'missing', 'installed']);
    const ins = await runCli(['models', 'inspect', shipped]);
    assert.equal(ins.code, 0, ins.stderr);
    assert.match(ins.stdout, /decision_level_multi_attention/);
    assert.match(ins.stdout, /labels +527 \(Speech; /);
    const missing = await runCli(['models', 'inspect', join(dir, 'nothing')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error \[MODEL_NOT_FOUND\]: no model directory at/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
