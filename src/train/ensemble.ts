/**
 * Builds one ensemble model directory from classifiers trained on the same hold-out:
 * members are added greedily (best validation mAP first) while the mean of their scores
 * improves validation mAP — every choice on the validation split, none on eval.
 */
import type { Blas } from '../classify/blas.js';
import type { LabelInfo } from '../classify/contracts.js';
import { type EnsembleMember, meanHead } from '../classify/ensemble.js';
import { saveClassifier } from '../classify/store.js';
import { EarshotError } from '../errors.js';
import type { HistoryPoint } from './checkpoint.js';
import { dequantize } from './data.js';
import { evaluate } from './metrics.js';
import { trainingCurveSvg } from './report.js';
import { type HeldOut, type LoadedSplit, splitFigures } from './run.js';
import { f1Thresholds } from './thresholds.js';

export interface Candidate {
  /** How the report names it (a path relative to the working directory, or a name). */
  name: string;
  members: EnsembleMember[];
  provenance: Record<string, unknown>;
  history?: HistoryPoint[];
}

type Split = HeldOut['split'];

/** The hold-out a model was selected on, from its provenance; refuses models without one. */
export function splitOf(c: Candidate): Split {
  const s = (c.provenance.data as { split?: Split } | undefined)?.split;
  if (!s) throw new EarshotError('INPUT_INVALID', `${c.name} records no validation hold-out (trained with --val or --val-fraction 0?): its validation figures cannot be compared`, { model: c.name });
  return s;
}

export interface EnsembleResult {
  chosen: string[];
  steps: Array<{ members: string[]; mAP: number }>;
  single: Array<{ name: string; mAP: number }>;
  probs: Float32Array;
}

/** Greedy forward selection on `val`. */
export function selectEnsemble(cands: readonly Candidate[], val: LoadedSplit, classes: number, blas?: Blas): EnsembleResult {
  const x = dequantize(val.x);
  const preds = cands.map((c) => meanHead(c.members, blas).predictSync(x, val.count));
  const mapOf = (p: Float32Array): number => evaluate(p, val.y, val.count, classes).mAP;
  const single = cands.map((c, i) => ({ name: c.name, mAP: mapOf(preds[i]!) }));
  const order = single.map((s, i) => ({ ...s, i })).sort((a, b) => b.mAP - a.mAP);
  let chosen = [order[0]!.i];
  let sum = Float32Array.from(preds[order[0]!.i]!);
  let best = order[0]!.mAP;
  const steps = [{ members: [order[0]!.name], mAP: best }];
  for (const o of order.slice(1)) {
    const trial = Float32Array.from(sum);
    const p = preds[o.i]!;
    for (let k = 0; k < trial.length; k++) trial[k]! += p[k]!;
    const mean = trial.map((v) => v / (chosen.length + 1));
    const m = mapOf(mean);
    steps.push({ members: [...chosen.map((c) => cands[c]!.name), o.name], mAP: m });
    if (m > best) {
      best = m;
      chosen = [...chosen, o.i];
      sum = trial;
    }
  }
  return { chosen: chosen.map((i) => cands[i]!.name), steps, single, probs: sum.map((v) => v / chosen.length) };
}

export function writeEnsemble(out: string, cands: readonly Candidate[], r: EnsembleResult, val: LoadedSplit, labels: readonly LabelInfo[], classes: number): void {
  const picked = r.chosen.map((n) => cands.find((c) => c.name === n)!);
  const members = picked.flatMap((c) => c.members);
  const notes = picked.flatMap((c) => c.members.map(() => c.name));
  const m0 = members[0]!;
  const fig = splitFigures(r.probs, val, classes, [
    ...r.single.map((s) => `member candidate ${s.name}: validation mAP ${s.mAP.toFixed(4)}`),
    ...r.steps.map(
      (s) => `mean of ${s.members.join(' + ')}: validation mAP ${s.mAP.toFixed(4)}${r.chosen.length === s.members.length && s.members.every((m) => r.chosen.includes(m)) ? ' (shipped)' : ''}`,
    ),
  ]);
  const extraFiles: Record<string, string> = {
    'thresholds.json': JSON.stringify(f1Thresholds(r.probs, val.y, val.count, classes, labels, val.ref)) + '\n',
    'validation.json': JSON.stringify(fig, null, 2) + '\n',
  };
  const h = picked[0]!.history;
  if (h) {
    extraFiles['history.json'] = JSON.stringify(h) + '\n';
    extraFiles['training-curve.svg'] = trainingCurveSvg(h);
  }
  const provenance = {
    ...picked[0]!.provenance,
    ensemble: {
      combine: 'mean of member probabilities',
      selection: 'greedy forward selection on the validation split',
      members: picked.map((c) => ({ name: c.name, training: c.provenance.training, weights: c.provenance.weights })),
    },
  };
  saveClassifier(
    out,
    m0.spec,
    m0.params,
    labels.map(({ index, id, name }) => ({ index, id, name })),
    { provenance, extraFiles, moreMembers: members.slice(1), memberNotes: notes },
  );
}
