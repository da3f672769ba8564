import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import type { LabelInfo } from '../../src/classify/contracts.js';
import { createHead } from '../../src/classify/head.js';
import { initParams, type NetSpec } from '../../src/classify/net.js';
import { loadClassifier, saveClassifier } from '../../src/classify/store.js';
import { eventsSchema } from '../../src/config/sections/events.js';
import { resolveThresholds } from '../../src/events/thresholds.js';
import { readModelDir } from '../../src/models/modeldir.js';
import { Rng } from '../../src/train/rng.js';

const C = 6;
const labels: LabelInfo[] = Array.from({ length: C }, (_, i) => ({ index: i, id: `/m/${i}`, name: `L${i}` }));
const spec = (modelType: NetSpec['modelType'], hidden: number): NetSpec => ({ modelType, timeSteps: 10, inputDim: 128, hidden, classes: C });

test('an ensemble directory loads as one head whose scores are the mean of its members (mixed model types)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-ens-'));
  try {
    const r = new Rng(3);
    const members = [spec('feature_level_attention', 16), spec('decision_level_multi_attention', 8), spec('decision_level_max_pooling', 12)].map((s) => ({
      spec: s,
      params: initParams(s, () => r.next()),
    }));
    const out = join(dir, 'ens');
    saveClassifier(out, members[0]!.spec, members[0]!.params, labels, { moreMembers: members.slice(1) });
    const md = readModelDir(out);
    assert.equal(md.manifest.architecture, 'feature_level_attention');
    assert.equal(md.manifest.extras?.ensemble, 'ensemble.json');
    const x = Float32Array.from({ length: 4 * 1280 }, () => r.next() * 2 - 1);
    const { head, members: loaded } = loadClassifier(out);
    assert.equal(loaded.length, 3);
    const got = head.predictSync(x, 4);
    const each = members.map((m) => createHead(m.spec, m.params).predictSync(x, 4));
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i]! - (each[0]![i]! + each[1]![i]! + each[2]![i]!) / 3) < 1e-6, `score ${i}`);
    assert.ok(
      each[0]!.some((v, i) => Math.abs(v - each[1]![i]!) > 1e-3),
      'members differ, so the mean is a real test',
    );
    // The async path the daemon's window uses gives the same scores.
    assert.deepEqual(Array.from(await head.predict(x.subarray(0, 1280), 1)), Array.from(got.subarray(0, C)));

    // A broken ensemble.json names the missing tensor.
    const ens = JSON.parse(readFileSync(join(out, 'ensemble.json'), 'utf8')) as { members: Array<{ prefix: string }> };
    ens.members[1]!.prefix = 'zz/';
    writeFileSync(join(out, 'ensemble.json'), JSON.stringify(ens));
    assert.throws(() => loadClassifier(out), /ensemble member 1 lacks tensor zz\/hidden1\.kernel/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('calibrated thresholds: loaded from thresholds.json, used by events where the config sets none', () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-thr-'));
  try {
    const s = spec('decision_level_single_attention', 8);
    const r = new Rng(4);
    const th = { method: 'test', classes: labels.map((l) => ({ index: l.index, id: l.id, name: l.name, threshold: l.index === 5 ? null : 0.1 + l.index * 0.1, f1: 0.5, positives: 3 })) };
    saveClassifier(
      dir + '/m',
      s,
      initParams(s, () => r.next()),
      labels,
      { extraFiles: { 'thresholds.json': JSON.stringify(th) } },
    );
    const { labels: got } = loadClassifier(dir + '/m');
    assert.deepEqual(
      got.map((l) => l.threshold),
      [0.1, 0.2, 0.30000000000000004, 0.4, 0.5, undefined],
    );

    const cfg = eventsSchema.parse({ onThreshold: 0.5, offThreshold: 0.25, labels: { L1: { onThreshold: 0.9 } } });
    const t = resolveThresholds(cfg, got);
    assert.ok(Math.abs(t.on[0]! - 0.1) < 1e-12 && Math.abs(t.off[0]! - 0.05) < 1e-12, 'calibrated on, off keeps the configured 1:2 hysteresis');
    assert.equal(t.on[1], 0.9, 'a configured label threshold wins');
    assert.equal(t.on[5], 0.5, 'no calibrated threshold: the global one');
    const off = resolveThresholds(eventsSchema.parse({ modelThresholds: false }), got);
    assert.deepEqual(Array.from(off.on), [0.5, 0.5, 0.5, 0.5, 0.5, 0.5]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
