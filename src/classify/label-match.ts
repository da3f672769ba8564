import { distance } from 'fastest-levenshtein';

import type { LabelInfo } from './contracts.js';

/**
 * How users name labels (config `events.labels` keys, subscription `labels`): an
 * ontology id or a display name. Ids match exactly; names ignore case, because
 * "speech" and "Speech" can only mean one AudioSet class and a silent miss hides
 * a typo. Returns label indices (a name may repeat across a custom label table).
 */
export function findLabels(term: string, labels: readonly LabelInfo[]): number[] {
  const exact = labels.filter((l) => l.id === term || l.name === term);
  if (exact.length) return exact.map((l) => l.index);
  const lower = term.toLowerCase();
  return labels.filter((l) => l.name.toLowerCase() === lower).map((l) => l.index);
}

/** True when `term` names label `l` (by id, or by name ignoring case). */
export function namesLabel(term: string, l: LabelInfo): boolean {
  return l.id === term || l.name.toLowerCase() === term.toLowerCase();
}

/**
 * The closest candidate to a misspelt name, or undefined when nothing is close
 * enough to be a plausible typo (edit distance at most a third of the term, min 2).
 */
export function closestName(term: string, candidates: Iterable<string>): string | undefined {
  const lower = term.toLowerCase();
  const budget = Math.max(2, Math.floor(term.length / 3));
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = distance(lower, c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return bestD <= budget ? best : undefined;
}

/** ` (did you mean "Speech"?)` or '' : appended to errors about unknown label names. */
export function didYouMean(term: string, candidates: Iterable<string>): string {
  const c = closestName(term, candidates);
  return c === undefined ? '' : ` (did you mean "${c}"?)`;
}
