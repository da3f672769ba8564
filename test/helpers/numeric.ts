import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

/** A file (or buffer) of little-endian float32 values, copied so the array is aligned. */
export function f32(source: string | Uint8Array): Float32Array {
  const b = typeof source === 'string' ? readFileSync(source) : source;
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b.subarray(0, out.length * 4));
  return out;
}

/** Largest |a[i] - b[i]|; asserts the lengths are equal. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length, 'compared arrays differ in length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
