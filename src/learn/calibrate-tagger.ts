import { existsSync, readFileSync } from 'node:fs';

import { parseDocument } from 'yaml';

import type { LabelInfo } from '../classify/contracts.js';
import type { EventsConfig } from '../config/sections/events.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { calibrateThreshold, DEFAULT_OFF_RATIO } from './calibrate.js';

export interface LabelCalibration {
  readonly label: string;
  readonly id: string;
  readonly onThreshold: number;
  readonly offThreshold: number;
  /** Events per hour at the configured thresholds, and at the calibrated one. */
  readonly falseAlarmsPerHourBefore: number;
  readonly falseAlarmsPerHourAfter: number;
  /** False when even a threshold of 1 fires more often (the label is in the background itself). */
  readonly withinBudget: boolean;
}

/**
 * Per-label thresholds for a tagger from scores over background audio (no target sounds):
 * labels that would fire more than `budgetPerHour` at the configured thresholds get the
 * lowest on-threshold within the budget (never below the configured one); the others
 * are left alone. Replays the daemon's own segmenter, so minDuration and merge gap count.
 */
export function calibrateLabels(scores: Float32Array, hops: number, labels: readonly LabelInfo[], events: EventsConfig, hopSeconds: number, budgetPerHour: number): LabelCalibration[] {
  const C = labels.length;
  const seconds = hops * hopSeconds;
  const out: LabelCalibration[] = [];
  for (let c = 0; c < C; c++) {
    let max = 0;
    for (let i = 0; i < hops; i++) max = Math.max(max, scores[i * C + c]!);
    if (max < events.onThreshold) continue;
    const seq = Float32Array.from({ length: hops }, (_, i) => scores[i * C + c]!);
    const o = {
      events,
      hopSeconds,
      budgetPerHour,
      offRatio: events.offThreshold / events.onThreshold || DEFAULT_OFF_RATIO,
      minDurationSeconds: events.minDurationSeconds,
      marginAbove: 0.02,
      floor: events.onThreshold,
      ceiling: 1,
    };
    const before = calibrateThreshold([seq], seconds, { ...o, floor: events.onThreshold, ceiling: events.onThreshold, marginAbove: 0 });
    if (before.falseAlarmsPerHour <= budgetPerHour) continue;
    const cal = calibrateThreshold([seq], seconds, o);
    const on = Math.round(cal.threshold * 1e4) / 1e4;
    out.push({
      label: labels[c]!.name,
      id: labels[c]!.id,
      onThreshold: on,
      offThreshold: Math.round(on * o.offRatio * 1e4) / 1e4,
      falseAlarmsPerHourBefore: Math.round(before.falseAlarmsPerHour * 100) / 100,
      falseAlarmsPerHourAfter: Math.round(cal.falseAlarmsPerHour * 100) / 100,
      withinBudget: cal.falseAlarmsPerHour <= budgetPerHour,
    });
  }
  return out;
}

/**
 * Merges the thresholds into `events.labels` of a YAML config file (created if missing),
 * keeping every other key and comment; keyed by ontology id. The daemon re-reads its
 * config file on SIGHUP. Atomic: a daemon reading it never sees half a file.
 */
export async function writeLabelThresholds(path: string, cal: readonly LabelCalibration[]): Promise<void> {
  const doc = parseDocument(existsSync(path) ? readFileSync(path, 'utf8') : '');
  if (doc.contents === null) doc.contents = doc.createNode({}) as never;
  for (const c of cal) {
    doc.setIn(['events', 'labels', c.id, 'onThreshold'], c.onThreshold);
    doc.setIn(['events', 'labels', c.id, 'offThreshold'], c.offThreshold);
  }
  await writeFileAtomic(path, new TextEncoder().encode(doc.toString()));
}
