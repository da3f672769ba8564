/**
 * Stratified hold-out of a multi-label training set: every label keeps about `fraction`
 * of its positive clips in the validation part. Labels are served rarest first, so a clip
 * carrying a rare label is placed by that label (iterative stratification, Sechidis et al.
 * 2011, greedy form). Deterministic for a given seed; the seed and the held-out ids go into
 * the model's provenance so the split can be rebuilt from the data alone.
 */
import { EarshotError } from '../errors.js';
import { Rng } from './rng.js';

export interface HoldOut {
  /** Row indices, ascending. */
  readonly train: Int32Array;
  readonly val: Int32Array;
}

export function stratifiedHoldOut(y: Uint8Array, count: number, classes: number, fraction: number, seed: number): HoldOut {
  if (!(fraction > 0 && fraction < 1)) throw new EarshotError('INPUT_INVALID', `validation fraction must be in (0, 1), got ${fraction}`);
  if (y.length !== count * classes) throw new EarshotError('DATA_CORRUPT', `labels have ${y.length} values, expected ${count} x ${classes}`);
  const rng = new Rng(seed);
  const order = Int32Array.from({ length: count }, (_, i) => i);
  rng.shuffle(order);
  const byClass: number[][] = Array.from({ length: classes }, () => []);
  for (const i of order) for (let k = 0; k < classes; k++) if (y[i * classes + k]) byClass[k]!.push(i);
  // 0 = unplaced, 1 = train, 2 = validation
  const place = new Uint8Array(count);
  const classOrder = Array.from(byClass.keys()).sort((a, b) => byClass[a]!.length - byClass[b]!.length || a - b);
  for (const k of classOrder) {
    const rows = byClass[k]!;
    if (rows.length === 0) continue;
    // A label with a single clip stays in training: it cannot be both learnt and validated.
    const want = rows.length < 2 ? 0 : Math.max(1, Math.round(rows.length * fraction));
    let have = 0;
    for (const i of rows) if (place[i] === 2) have++;
    for (const i of rows) {
      if (place[i] !== 0) continue;
      place[i] = have < want ? 2 : 1;
      if (place[i] === 2) have++;
    }
  }
  // Clips with no label at all: the same fraction, in shuffled order.
  const rest = Array.from(order).filter((i) => place[i] === 0);
  const restVal = Math.round(rest.length * fraction);
  rest.forEach((i, j) => (place[i] = j < restVal ? 2 : 1));
  const train: number[] = [];
  const val: number[] = [];
  for (let i = 0; i < count; i++) (place[i] === 2 ? val : train).push(i);
  return { train: Int32Array.from(train), val: Int32Array.from(val) };
}

/** Rows `idx` of a packed split (x uint8 [N, rowLen], y uint8 [N, classes]). */
export function takeRows<T extends { count: number; x: Uint8Array; y: Uint8Array; videoIds: string[] }>(d: T, idx: Int32Array): { count: number; x: Uint8Array; y: Uint8Array; videoIds: string[] } {
  const rowLen = d.x.length / d.count;
  const classes = d.y.length / d.count;
  const x = new Uint8Array(idx.length * rowLen);
  const y = new Uint8Array(idx.length * classes);
  const videoIds: string[] = [];
  idx.forEach((r, i) => {
    x.set(d.x.subarray(r * rowLen, (r + 1) * rowLen), i * rowLen);
    y.set(d.y.subarray(r * classes, (r + 1) * classes), i * classes);
    videoIds.push(d.videoIds[r]!);
  });
  return { count: idx.length, x, y, videoIds };
}
