import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { dprime, evaluate, normInv } from '../../src/train/metrics.js';
import { Rng } from '../../src/train/rng.js';

// Reference: scikit-learn (Debian python3-sklearn) and scipy's norm.ppf, run as /usr/bin/python3.
const PY = `
import sys, json, numpy as np
from sklearn import metrics
from scipy.stats import norm
d = json.load(sys.stdin)
n, c = d['n'], d['c']
s = np.array(d['scores'], dtype=np.float32).reshape(n, c)
y = np.array(d['labels']).reshape(n, c)
out = []
for k in range(c):
    if y[:, k].sum() == 0:
        out.append(None); continue
    ap = metrics.average_precision_score(y[:, k], s[:, k])
    auc = metrics.roc_auc_score(y[:, k], s[:, k]) if y[:, k].sum() < n else None
    out.append([ap, auc])
print(json.dumps({'perClass': out, 'ppf': [float(norm.ppf(p)) for p in d['ps']]}))
`;

test('AP, AUC and d-prime match scikit-learn / scipy (ties included)', () => {
  const rng = new Rng(5);
  const n = 400;
  const c = 12;
  const scores = new Float32Array(n * c);
  const labels = new Uint8Array(n * c);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < c; k++) {
      const pos = rng.next() < 0.05 + 0.03 * k;
      labels[i * c + k] = k === 0 ? 0 : k === 1 ? 1 : pos ? 1 : 0; // class 0: no positives (skipped); class 1: no negatives
      const raw = rng.next() + (pos ? 0.3 : 0);
      // Classes >= 6 get coarse scores so ties are common.
      scores[i * c + k] = k >= 6 ? Math.round(raw * 8) / 8 : raw;
    }
  const ps = [1e-12, 1e-6, 0.01, 0.02425, 0.3, 0.5, 0.77, 0.97575, 0.999, 1 - 1e-9];
  const r = spawnSync('/usr/bin/python3', ['-c', PY], { input: JSON.stringify({ n, c, scores: Array.from(scores), labels: Array.from(labels), ps }), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const ref = JSON.parse(r.stdout) as { perClass: Array<[number, number | null] | null>; ppf: number[] };
  const ours = evaluate(scores, labels, n, c);
  assert.equal(ours.perClass[0]!.ap, null, 'class without positives is skipped');
  assert.equal(ours.perClass[1]!.auc, null, 'AUC undefined without negatives');
  const aps: number[] = [];
  const aucs: number[] = [];
  ref.perClass.forEach((rc, k) => {
    const o = ours.perClass[k]!;
    if (rc === null) return assert.equal(o.ap, null);
    assert.ok(Math.abs(o.ap! - rc[0]) < 1e-9, `class ${k} AP ${o.ap} vs sklearn ${rc[0]}`);
    aps.push(rc[0]);
    if (rc[1] === null) assert.equal(o.auc, null);
    else {
      assert.ok(Math.abs(o.auc! - rc[1]) < 1e-9, `class ${k} AUC ${o.auc} vs sklearn ${rc[1]}`);
      aucs.push(rc[1]);
    }
  });
  const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
  assert.ok(Math.abs(ours.mAP - mean(aps)) < 1e-9);
  assert.ok(Math.abs(ours.AUC - mean(aucs)) < 1e-9);
  assert.equal(ours.classesEvaluated, c - 1);
  ps.forEach((p, i) => assert.ok(Math.abs(normInv(p) - ref.ppf[i]!) < 1e-9 * Math.max(1, Math.abs(ref.ppf[i]!)), `ppf(${p}) ${normInv(p)} vs scipy ${ref.ppf[i]}`));
  assert.ok(Math.abs(ours.dprime - Math.SQRT2 * normInv(ours.AUC)) < 1e-12);
  assert.equal(dprime(0.5), 0);
});
