import assert from 'node:assert/strict';
import { test } from 'node:test';

import { type Blas, defaultBlas, tsBlas } from '../../src/classify/blas.js';
import { bceLoss } from '../../src/classify/layers.js';
import { backward, forward, initParams, MODEL_TYPES, type NetSpec, type Params, paramSpecs, zeroGrads } from '../../src/classify/net.js';
import { Rng } from '../../src/train/rng.js';

// Float64 finite differences of the float32 loss are noisy, so the loss is scaled up
// (sum instead of mean) and each checked entry must agree to a few percent.
const DROP = Number(process.env.GC_DROP ?? 0.5);
const H = Number(process.env.GC_H ?? 1e-2);
function lossOf(blas: Blas, spec: NetSpec, p: Params, x: Float32Array, y: Float32Array, n: number, seed: number): number {
  const r = new Rng(seed);
  const c = forward(blas, spec, p, x, n, { training: true, dropout: DROP, rng: r });
  return bceLoss(c.output, y).loss * c.output.length;
}

function check(blas: Blas, modelType: NetSpec['modelType']): void {
  const spec: NetSpec = { modelType, timeSteps: 3, inputDim: 5, hidden: 6, classes: 4 };
  const rng = new Rng(7);
  const p = initParams(spec, () => rng.next());
  // Non-trivial BN affine parameters so their gradients are exercised. BN betas sit well above
  // the batch's |xhat| <= sqrt(rows - 1) so no ReLU input is near its kink (float32 finite
  // differences cannot resolve kinks); the zero branch is still exercised by dropout.
  for (const s of paramSpecs(spec)) if (s.trainable && !s.name.endsWith('kernel')) p.get(s.name)!.forEach((_, i, a) => (a[i]! += (rng.next() - 0.5) * 0.4 + (/^bn\d\.beta/.test(s.name) ? 5 : 0)));
  // ...and small head kernels keep sigmoids and the 1e-7 probability clip out of saturation.
  for (const [k, v] of p) if (/^(cla|att|out)\d?\.kernel$/.test(k)) v.forEach((_, i, a) => (a[i]! *= 0.2));
  const n = 5;
  const x = new Float32Array(n * 3 * 5).map(() => rng.next() * 2 - 1);
  const y = new Float32Array(n * 4).map(() => (rng.next() < 0.4 ? 1 : 0));
  const seed = 99;
  const r = new Rng(seed);
  const moving = new Map([...p].filter(([k]) => k.includes('moving')).map(([k, v]) => [k, Float32Array.from(v)]));
  const c = forward(blas, spec, p, x, n, { training: true, dropout: DROP, rng: r });
  const { grad } = bceLoss(c.output, y);
  const g = zeroGrads(spec);
  backward(
    blas,
    spec,
    p,
    c,
    grad.map((v) => v * c.output.length),
    g,
  );
  let checked = 0;
  let kinks = 0;
  for (const [name, gv] of g) {
    const w = p.get(name)!;
    for (let i = 0; i < w.length; i += Math.max(1, Math.floor(w.length / 7))) {
      const orig = w[i]!;
      const restore = (): void => moving.forEach((v, k) => p.get(k)!.set(v));
      const numeric = (h: number): number => {
        w[i] = orig + h;
        const lp = lossOf(blas, spec, p, x, y, n, seed);
        restore();
        w[i] = orig - h;
        const lm = lossOf(blas, spec, p, x, y, n, seed);
        restore();
        w[i] = orig;
        return (lp - lm) / (2 * h);
      };
      const h = H * Math.max(1, Math.abs(orig));
      const coarse = numeric(h);
      const num = numeric(h / 2);
      // A ReLU or max kink inside [w-h, w+h] makes the two step sizes disagree: not a smooth point.
      if (Math.abs(coarse - num) > 1e-3 + 0.01 * Math.abs(num)) {
        kinks++;
        continue;
      }
      const ana = gv[i]!;
      const tol = 1e-3 + 0.02 * Math.max(Math.abs(num), Math.abs(ana));
      assert.ok(Math.abs(num - ana) <= tol, `${modelType} ${blas.name} d/d${name}[${i}]: analytic ${ana}, numeric ${num}`);
      checked++;
    }
  }
  assert.ok(checked > 40 && kinks <= checked / 10, `${checked} entries checked, ${kinks} skipped at kinks`);
}

for (const blas of [tsBlas, defaultBlas()]) {
  for (const mt of MODEL_TYPES) {
    test(`gradient check ${mt} (${blas.name})`, () => check(blas, mt));
  }
}
