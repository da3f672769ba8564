/**
 * Indices of the `k` highest scores that are >= `minScore` (and set in `mask`, when given),
 * best first; equal scores keep index order. One pass, O(n k): k is small (labels shown).
 */
export function topK(scores: ArrayLike<number>, k: number, minScore = -Infinity, mask?: Uint8Array): number[] {
  const best: number[] = [];
  if (!(k >= 1)) return best;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (v < minScore || (mask && !mask[i])) continue;
    if (best.length === k && v <= scores[best[k - 1]!]!) continue;
    let j = best.length === k ? k - 1 : best.length;
    while (j > 0 && scores[best[j - 1]!]! < v) {
      best[j] = best[j - 1]!;
      j--;
    }
    best[j] = i;
  }
  return best;
}
