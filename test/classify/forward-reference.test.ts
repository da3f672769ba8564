import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

import { defaultBlas, tsBlas } from '../../src/classify/blas.js';
import { forward, initParams, MODEL_TYPES, type NetSpec } from '../../src/classify/net.js';
import { Rng } from '../../src/train/rng.js';

// Independent straightforward numpy version of the seed's Keras graph (keras/main.py).
const PY = `
import sys, json, numpy as np
d = json.load(sys.stdin)
P = {k: np.array(v, dtype=np.float64) for k, v in d['params'].items()}
s = d['spec']; T, D, H, C = s['timeSteps'], s['inputDim'], s['hidden'], s['classes']
x = np.array(d['x'], dtype=np.float64).reshape(-1, T, D)
train = d['training']
def dense(a, name): return a @ P[name + '.kernel'].reshape(a.shape[-1], -1) + P[name + '.bias']
def bn(a, name):
    if train:
        axes = tuple(range(a.ndim - 1)); m = a.mean(axis=axes); v = a.var(axis=axes)
    else:
        m = P[name + '.movingMean']; v = P[name + '.movingVariance']
    return P[name + '.gamma'] * (a - m) / np.sqrt(v + 1e-3) + P[name + '.beta']
sig = lambda z: 1 / (1 + np.exp(-z))
def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True)); return e / e.sum(axis=-1, keepdims=True)
def attpool(cla, att):
    att = np.clip(att, 1e-7, 1 - 1e-7); att = att / att.sum(axis=1)[:, None, :]
    return (cla * att).sum(axis=1)
a = x; acts = []
for i in (1, 2, 3):
    a = np.maximum(bn(dense(a, 'hidden%d' % i), 'bn%d' % i), 0); acts.append(a)
a2, a3 = acts[1], acts[2]
mt = s['modelType']
if mt == 'decision_level_max_pooling': out = sig(dense(a3, 'cla')).max(axis=1)
elif mt == 'decision_level_average_pooling': out = sig(dense(a3, 'cla')).mean(axis=1)
elif mt == 'decision_level_single_attention': out = attpool(sig(dense(a3, 'cla')), softmax(dense(a3, 'att')))
elif mt == 'decision_level_multi_attention':
    o1 = attpool(sig(dense(a2, 'cla1')), softmax(dense(a2, 'att1')))
    o2 = attpool(sig(dense(a3, 'cla2')), softmax(dense(a3, 'att2')))
    out = sig(dense(np.concatenate([o1, o2], axis=-1), 'out'))
else:
    b = attpool(dense(a3, 'cla'), sig(dense(a3, 'att')))
    out = sig(dense(np.maximum(bn(b, 'bn4'), 0), 'out'))
print(json.dumps(out.ravel().tolist()))
`;

for (const modelType of MODEL_TYPES)
  for (const training of [false, true])
    test(`forward ${modelType} (${training ? 'batch statistics' : 'inference'}) matches the numpy reference on both BLAS backends`, () => {
      const spec: NetSpec = { modelType, timeSteps: 4, inputDim: 6, hidden: 16, classes: 7 };
      const rng = new Rng(11);
      const p = initParams(spec, () => rng.next());
      for (const [k, v] of p) if (k.includes('moving')) v.forEach((_, i, a) => (a[i] = k.endsWith('Variance') ? 0.5 + rng.next() : rng.next() - 0.5));
      for (const [k, v] of p) if (k.endsWith('gamma') || k.endsWith('beta') || k.endsWith('bias')) v.forEach((_, i, a) => (a[i]! += rng.next() - 0.5));
      const n = 9;
      const x = new Float32Array(n * 4 * 6).map(() => rng.next() * 2 - 1);
      const params = Object.fromEntries([...p].map(([k, v]) => [k, Array.from(v)]));
      const r = spawnSync('/usr/bin/python3', ['-c', PY], { input: JSON.stringify({ spec, params, x: Array.from(x), training }), encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const ref = JSON.parse(r.stdout) as number[];
      for (const blas of [tsBlas, defaultBlas()]) {
        const copy = new Map([...p].map(([k, v]) => [k, Float32Array.from(v)]));
        const out = forward(blas, spec, copy, x, n, { training, dropout: 0 }).output;
        assert.equal(out.length, ref.length);
        out.forEach((v, i) => assert.ok(Math.abs(v - ref[i]!) < 2e-5, `${blas.name} output[${i}] ${v} vs numpy ${ref[i]}`));
      }
    });
