import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import { besselI0, KAISER_BEST, kaiserBest } from '../../src/features/index.js';
import { sharedPath } from '../helpers/shared.js';
import { readF64 } from './util.js';

describe('kaiser_best filter table', () => {
  test('I0 matches reference values', () => {
    assert.equal(besselI0(0), 1);
    // reference values from numpy.i0 (Cephes)
    assert.ok(Math.abs(besselI0(1) - 1.2660658777520082) < 1e-15);
    assert.ok(Math.abs(besselI0(5) / 27.239871823604442 - 1) < 1e-15);
    assert.ok(Math.abs(besselI0(10) / 2815.716628466254 - 1) < 1e-14);
  });

  test('computed table equals resampy 0.4.2 kaiser_best within 2e-15 (measured 1.67e-15)', () => {
    const meta = JSON.parse(readFileSync(sharedPath('resample', 'kaiser_best.json'), 'utf8')) as Record<string, number>;
    assert.equal(meta.num_zeros, KAISER_BEST.numZeros);
    assert.equal(meta.precision_per_crossing, KAISER_BEST.precisionPerCrossing);
    assert.equal(meta.beta, KAISER_BEST.beta);
    assert.equal(meta.rolloff, KAISER_BEST.rolloff);
    const ref = readF64(sharedPath('resample', 'kaiser_best.f64'));
    const ours = kaiserBest().halfWindow;
    assert.equal(ours.length, 409_601);
    assert.equal(ref.length, ours.length);
    let maxAbs = 0;
    for (let i = 0; i < ref.length; i++) maxAbs = Math.max(maxAbs, Math.abs(ref[i]! - ours[i]!));
    // Differences are last-bit rounding of sin/sqrt/I0 (values are <= 0.917).
    assert.ok(maxAbs <= 2e-15, `max abs diff ${maxAbs}`);
    assert.equal(ours[0], KAISER_BEST.rolloff);
    assert.equal(kaiserBest(), kaiserBest(), 'table is computed once');
  });
});
