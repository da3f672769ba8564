/**
 * Per-class average precision (sklearn average_precision_score: step-wise sum over
 * distinct score thresholds, tied scores form one step), ROC AUC (trapezoid over the
 * tie-grouped ROC curve, as roc_auc_score) and d' = sqrt(2) Phi^-1(AUC).
 * Classes with no positive clip (AP undefined) or no negative clip (AUC undefined)
 * are skipped in the means and reported with null.
 */

export interface ClassStats {
  index: number;
  positives: number;
  ap: number | null;
  auc: number | null;
}

export interface EvalResult {
  mAP: number;
  /** Mean of per-class AUCs. */
  AUC: number;
  /** d' of the mean AUC (as the seed's get_avg_stats). */
  dprime: number;
  clips: number;
  /** Classes that entered mAP (had at least one positive). */
  classesEvaluated: number;
  perClass: ClassStats[];
}

/** AP and AUC of one class; `order` is scratch space of length n. */
export function classStats(scores: Float32Array, labels: Uint8Array, n: number, stride: number, k: number, order: Int32Array): { positives: number; ap: number | null; auc: number | null } {
  let positives = 0;
  for (let i = 0; i < n; i++) {
    order[i] = i;
    if (labels[i * stride + k]) positives++;
  }
  const negatives = n - positives;
  if (positives === 0) return { positives, ap: null, auc: null };
  const s = (i: number): number => scores[i * stride + k]!;
  order.sort((a, b) => s(b) - s(a));
  let tp = 0;
  let fp = 0;
  let ap = 0;
  let auc = 0;
  let prevTp = 0;
  let prevFp = 0;
  for (let i = 0; i < n;) {
    const v = s(order[i]!);
    // One threshold per distinct score: ties move tp and fp together.
    while (i < n && s(order[i]!) === v) {
      if (labels[order[i]! * stride + k]) tp++;
      else fp++;
      i++;
    }
    ap += ((tp - prevTp) / positives) * (tp / (tp + fp));
    auc += ((fp - prevFp) * (tp + prevTp)) / 2;
    prevTp = tp;
    prevFp = fp;
  }
  return { positives, ap, auc: negatives === 0 ? null : auc / (positives * negatives) };
}

/** scores float [n, classes], labels 0/1 [n, classes]. */
export function evaluate(scores: Float32Array, labels: Uint8Array, n: number, classes: number): EvalResult {
  const order = new Int32Array(n);
  const perClass: ClassStats[] = [];
  for (let k = 0; k < classes; k++) perClass.push({ index: k, ...classStats(scores, labels, n, classes, k, order) });
  const aps = perClass.map((c) => c.ap).filter((v): v is number => v !== null);
  const aucs = perClass.map((c) => c.auc).filter((v): v is number => v !== null);
  const mean = (a: number[]): number => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);
  const AUC = mean(aucs);
  return { mAP: mean(aps), AUC, dprime: dprime(AUC), clips: n, classesEvaluated: aps.length, perClass };
}

export function dprime(auc: number): number {
  return Math.SQRT2 * normInv(auc);
}

/** Standard normal CDF via erfc, accurate to ~1e-14. */
export function normCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

function erfc(x: number): number {
  if (x < 0) return 2 - erfc(-x);
  if (x < 2.5) {
    // Maclaurin series of erf: converges fast here and loses < 3 digits to cancellation.
    let term = x;
    let sum = x;
    for (let n = 1; n < 200; n++) {
      term *= (-x * x) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  // Continued fraction (Laplace), evaluated bottom-up.
  let f = 0;
  for (let k = 80; k >= 1; k--) f = k / 2 / (x + f);
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / (x + f);
}

const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** Phi^-1(p): Acklam's rational approximation (rel. error 1.15e-9) plus one Halley step. */
export function normInv(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return NaN;
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const lo = 0.02425;
  let x: number;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  } else if (p <= 1 - lo) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) / (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
  }
  const e = normCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
