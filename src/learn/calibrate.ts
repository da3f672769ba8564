import type { EventsConfig } from '../config/sections/events.js';
import { EventSegmenter } from '../events/segment.js';

/**
 * Thresholds from a false-alarm budget: the lowest on-threshold at which the event stage
 * (the daemon's own segmenter, with this label's hysteresis and minimum duration) fires
 * at most `budgetPerHour` times over the background score sequences.
 */
export interface CalibrateOptions {
  readonly events: EventsConfig;
  readonly hopSeconds: number;
  readonly budgetPerHour: number;
  /** off = on x offRatio (hysteresis). */
  readonly offRatio: number;
  readonly minDurationSeconds: number;
  /** Added to the calibrated threshold: the background heard live is never the one calibrated on. */
  readonly marginAbove: number;
  readonly floor: number;
  readonly ceiling: number;
}

export const DEFAULT_OFF_RATIO = 0.75;

/** Events the segmenter emits over each sequence (scores per hop, stream order). */
export function countEvents(sequences: readonly Float32Array[], on: number, o: Pick<CalibrateOptions, 'events' | 'hopSeconds' | 'offRatio' | 'minDurationSeconds'>): number {
  const cfg: EventsConfig = { ...o.events, onThreshold: on, offThreshold: on * o.offRatio, minDurationSeconds: o.minDurationSeconds, labels: {} };
  const labels = [{ index: 0, id: 'x', name: 'x' }];
  let n = 0;
  for (const seq of sequences) {
    const seg = new EventSegmenter(cfg, { hopSeconds: o.hopSeconds });
    for (let i = 0; i < seq.length; i++) {
      for (const e of seg.push({ sourceId: 'c', tSeconds: (i + 1) * o.hopSeconds, startSeconds: i * o.hopSeconds, scores: seq.subarray(i, i + 1), labels })) if (e.type === 'event.start') n++;
    }
    for (const e of seg.flush()) if (e.type === 'event.start') n++;
  }
  return n;
}

/**
 * The lowest threshold that stays within the budget, searched from the top: the count is not
 * monotone near 0 (a threshold under the background's floor merges everything into one long
 * event), so it steps down by 0.01 until the budget is exceeded, then bisects that step.
 * Then margin, floor and ceiling.
 */
export function calibrateThreshold(sequences: readonly Float32Array[], seconds: number, o: CalibrateOptions): { threshold: number; backgroundThreshold: number; falseAlarmsPerHour: number } {
  const allowed = Math.floor((o.budgetPerHour * seconds) / 3600);
  let hi = 1.000001;
  let lo = 0;
  for (let t = 1; t > 0; t = Math.round((t - 0.01) * 100) / 100) {
    if (countEvents(sequences, t, o) > allowed) {
      lo = t;
      break;
    }
    hi = t;
  }
  if (lo > 0) {
    for (let it = 0; it < 16; it++) {
      const mid = (lo + hi) / 2;
      if (countEvents(sequences, mid, o) > allowed) lo = mid;
      else hi = mid;
    }
  }
  const threshold = Math.min(o.ceiling, Math.max(o.floor, hi + o.marginAbove));
  const fa = seconds > 0 ? (countEvents(sequences, threshold, o) * 3600) / seconds : 0;
  return { threshold, backgroundThreshold: hi, falseAlarmsPerHour: fa };
}
