import type { LabelInfo } from '../classify/contracts.js';
import type { EventsConfig } from '../config/sections/events.js';
import { EarshotError } from '../errors.js';
import { didYouMean, findLabels } from '../classify/label-match.js';

/** Resolved per-label thresholds, indexed like the tagger's label table. */
export interface LabelThresholds {
  readonly on: Float64Array;
  readonly off: Float64Array;
  readonly minDurationSeconds: Float64Array;
  readonly mergeGapSeconds: Float64Array;
}

/**
 * Applies `events.labels` overrides (keyed by display name, any case, or ontology id)
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
      const hint = didYouMean(key, labels.map((l) => l.name));
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
  return t;
}
