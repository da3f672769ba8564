import type { Weights } from '../../src/models/contracts.js';
import type { RawTensor, VariableTable } from '../../src/models/import/tensors.js';

/**
 * Fixtures for importer tests and benchmarks: a VGGish-shaped variable table with
 * the official names but narrow layers (every format path runs in milliseconds),
 * and deterministic weights for any table.
 */
export function miniVggishTable(): VariableTable {
  const convs: Array<[string, number, number]> = [
    ['vggish/conv1', 1, 4],
    ['vggish/conv2', 4, 8],
    ['vggish/conv3/conv3_1', 8, 8],
    ['vggish/conv3/conv3_2', 8, 8],
    ['vggish/conv4/conv4_1', 8, 16],
    ['vggish/conv4/conv4_2', 16, 16],
  ];
  const fcs: Array<[string, number, number]> = [
    ['vggish/fc1/fc1_1', 6 * 4 * 16, 32],
    ['vggish/fc1/fc1_2', 32, 32],
    ['vggish/fc2', 32, 8],
  ];
  return [
    ...convs.flatMap(
      ([s, i, o]) =>
        [
          [`${s}/weights`, [3, 3, i, o]],
          [`${s}/biases`, [o]],
        ] as Array<[string, number[]]>,
    ),
    ...fcs.flatMap(
      ([s, i, o]) =>
        [
          [`${s}/weights`, [i, o]],
          [`${s}/biases`, [o]],
        ] as Array<[string, number[]]>,
    ),
  ];
}

/** mulberry32: small, seedable, good enough to make every weight distinct. */
export function seededWeights(table: VariableTable, seed: number): Weights {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const w = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const [name, shape] of table) {
    const n = shape.reduce((a, b) => a * b, 1);
    w.set(name, { shape, data: Float32Array.from({ length: n }, () => next() * 2 - 1) });
  }
  return w;
}

export function asRawTensors(w: Weights): RawTensor[] {
  return [...w].map(([name, t]) => ({ name, shape: t.shape, data: t.data }));
}
