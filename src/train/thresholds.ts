/**
 * Per-class decision thresholds, F1-optimal on a validation split: for each class the
 * scores are swept from the top; the cut with the best F1 is placed halfway between the
 * lowest score kept and the next lower one (a cut exactly on a score would flip with the
 * last float bit). Classes without a positive clip in the split get null: the daemon keeps
 * its configured threshold for them.
 */
import type { LabelInfo } from '../classify/contracts.js';
import type { DataRef } from './data-ref.js';

export interface ClassThreshold {
  index: number;
  id: string;
  name: string;
  threshold: number | null;
  /** F1 on the validation split at that threshold. */
  f1: number | null;
  positives: number;
}

export interface ThresholdsFile {
  method: string;
  data?: DataRef;
  classes: ClassThreshold[];
}

export function f1Threshold(scores: Float32Array | number[], positive: Uint8Array | boolean[]): { threshold: number; f1: number } | null {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]!);
  let P = 0;
  for (let i = 0; i < n; i++) if (positive[i]) P++;
  if (P === 0) return null;
  let tp = 0;
  let best = { f1: -1, cut: 0 };
  for (let r = 0; r < n; r++) {
    if (positive[order[r]!]) tp++;
    // Only cut between distinct scores: tied clips are kept or dropped together.
    if (r + 1 < n && scores[order[r + 1]!] === scores[order[r]!]) continue;
    const f1 = (2 * tp) / (r + 1 + P);
    if (f1 > best.f1) best = { f1, cut: r };
  }
  const lo = scores[order[best.cut]!]!;
  const next = best.cut + 1 < n ? scores[order[best.cut + 1]!]! : 0;
  return { threshold: (lo + next) / 2, f1: best.f1 };
}

/** probs [count, classes], y 0/1 [count, classes]. */
export function f1Thresholds(probs: Float32Array, y: Uint8Array, count: number, classes: number, labels: readonly LabelInfo[], data?: DataRef): ThresholdsFile {
  const out: ClassThreshold[] = [];
  const s = new Float32Array(count);
  const pos = new Uint8Array(count);
  for (let k = 0; k < classes; k++) {
    let positives = 0;
    for (let i = 0; i < count; i++) {
      s[i] = probs[i * classes + k]!;
      pos[i] = y[i * classes + k]!;
      positives += pos[i]!;
    }
    const r = f1Threshold(s, pos);
    out.push({ index: k, id: labels[k]?.id ?? '', name: labels[k]?.name ?? `class ${k}`, threshold: r ? Number(r.threshold.toPrecision(6)) : null, f1: r ? Number(r.f1.toFixed(4)) : null, positives });
  }
  return { method: 'F1-optimal per class on the validation split', ...(data ? { data } : {}), classes: out };
}
