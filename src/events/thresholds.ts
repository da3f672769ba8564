import type { LabelInfo } from '../classify/contracts.js';
import { didYouMean, findLabels } from '../classify/label-match.js';
import type { EventsConfig } from '../config/sections/events.js';
import { EarshotError } from '../errors.js';

/** Resolved per-label thresholds, indexed like the tagger's label table. */
export interface LabelThresholds {
  readonly on: Float64Array;
  readonly off: Float64Array;
  readonly minDurationSeconds: Float64Array;
  readonly mergeGapSeconds: Float64Array;
}

/**
 * Applies a label's own calibrated defaults (custom labels), then `events.labels` overrides (keyed by display name, any case, or ontology id)
 * over the global thresholds. An override key matching no label is a config error
 * with the closest label name suggested: a typo would otherwise silently leave the
 * default in place.
 */
export function resolveThresholds(cfg: EventsConfig, labels: readonly LabelInfo[]): LabelThresholds {
  const n = labels.length;
  const t: LabelThresholds = {
    on: new Float64Array(n).fill(cfg.onThreshold),
    off: new Float64Array(n).fill(cfg.offThreshold),
    minDurationSeconds: new Float64Array(n).fill(cfg.minDurationSeconds),
    mergeGapSeconds: new Float64Array(n).fill(cfg.mergeGapSeconds),
  };
  for (const l of labels) {
    if (!l.defaults) continue;
    t.on[l.index] = l.defaults.onThreshold;
    t.off[l.index] = Math.min(l.defaults.offThreshold, l.defaults.onThreshold);
    t.minDurationSeconds[l.index] = l.defaults.minDurationSeconds;
  }
  // The model's calibrated thresholds (LabelInfo.threshold) replace the global pair; the
  // hysteresis keeps the configured proportion off/on. Per-label config below still wins.
  if (cfg.modelThresholds !== false) {
    const ratio = cfg.onThreshold > 0 ? cfg.offThreshold / cfg.onThreshold : 1;
    labels.forEach((l, i) => {
      if (l.threshold === undefined) return;
      t.on[i] = l.threshold;
      t.off[i] = l.threshold * ratio;
    });
  }
  for (const [key, o] of Object.entries(cfg.labels)) {
    const idx = findLabels(key, labels);
    if (!idx.length) {
      const hint = didYouMean(
        key,
        labels.map((l) => l.name),
      );
      throw new EarshotError('CONFIG_INVALID', `events.labels: "${key}" is neither a label name nor an ontology id of the tagger${hint}`, { key });
    }
    for (const i of idx) {
      if (o.onThreshold !== undefined) t.on[i] = o.onThreshold;
      if (o.offThreshold !== undefined) t.off[i] = o.offThreshold;
      if (o.minDurationSeconds !== undefined) t.minDurationSeconds[i] = o.minDurationSeconds;
      if (o.mergeGapSeconds !== undefined) t.mergeGapSeconds[i] = o.mergeGapSeconds;
      if (t.off[i]! > t.on[i]!) {
        throw new EarshotError('CONFIG_INVALID', `events.labels."${key}": offThreshold ${t.off[i]} exceeds onThreshold ${t.on[i]}`, { key });
      }
    }
  }
  applyLabelFilter(cfg, labels, t.on);
  return t;
}

/** events.include / events.exclude: a filtered-out label's on threshold is +Infinity, so it never starts an event. */
function applyLabelFilter(cfg: EventsConfig, labels: readonly LabelInfo[], on: Float64Array): void {
  const resolve = (terms: readonly string[] | undefined, key: string) => {
    const out = new Set<number>();
    for (const term of terms ?? []) {
      const idx = findLabels(term, labels);
      if (!idx.length)
        throw new EarshotError(
          'CONFIG_INVALID',
          `events.${key}: "${term}" is neither a label name nor an ontology id of the tagger${didYouMean(
            term,
            labels.map((l) => l.name),
          )}`,
          { key: term },
        );
      for (const i of idx) out.add(i);
    }
    return out;
  };
  const include = resolve(cfg.include, 'include');
  const exclude = resolve(cfg.exclude, 'exclude');
  for (let i = 0; i < on.length; i++) if (exclude.has(i) || (include.size > 0 && !include.has(i))) on[i] = Infinity;
}
