import type { LabelInfo, Tagger } from '../../src/classify/contracts.js';
import type { Patch } from '../../src/features/contracts.js';

/**
 * Deterministic stand-in for a model (the hardware-like boundary) in unit tests of
 * the pipeline and fan-out: "Loud" scores high when a patch's mean log-mel exceeds
 * `threshold`, "Quiet" is its complement. The frontend feeding it is the real one.
 */
export const fakeLabels: LabelInfo[] = [
  { index: 0, id: '/m/fake_loud', name: 'Loud' },
  { index: 1, id: '/m/fake_quiet', name: 'Quiet' },
];

export function meanLogMel(p: Patch): number {
  let s = 0;
  for (let i = 0; i < p.data.length; i++) s += p.data[i]!;
  return s / p.data.length;
}

export function energyTagger(threshold = -4.2, calls: { n: number } = { n: 0 }): Tagger {
  return {
    name: 'energy',
    labels: fakeLabels,
    frontend: { patchHopSeconds: 0.48 },
    backend: 'fake/cpu',
    openSession: () => ({
      tag: async (p: Patch) => {
        calls.n++;
        const loud = meanLogMel(p) > threshold ? 0.9 : 0.05;
        return Float32Array.from([loud, 1 - loud]);
      },
    }),
    dispose: async () => undefined,
  };
}

/** Mono float32 at `rate`: `segments` of [seconds, amplitude] 1 kHz sine (0 = digital silence). */
export function toneBursts(rate: number, segments: [number, number][]): Float32Array {
  const total = segments.reduce((a, [s]) => a + Math.round(s * rate), 0);
  const out = new Float32Array(total);
  let k = 0;
  for (const [s, amp] of segments) {
    const n = Math.round(s * rate);
    for (let i = 0; i < n; i++, k++) out[k] = amp * Math.sin((2 * Math.PI * 1000 * k) / rate);
  }
  return out;
}
