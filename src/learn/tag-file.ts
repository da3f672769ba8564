import type { LabelInfo } from '../classify/contracts.js';
import type { EventsConfig } from '../config/sections/events.js';
import type { LabelEvent, ScoreFrame } from '../events/contracts.js';
import { framesToEvents } from '../events/stage.js';
import type { Embedder } from './embed.js';
import { applyHead } from './head.js';
import type { CustomModel } from './modeldir.js';

export interface CustomScores {
  readonly startSeconds: readonly number[];
  /** Window end per hop (start + window, clipped to the audio's end): the daemon stamps frames so. */
  readonly endSeconds: readonly number[];
  readonly scores: Float32Array;
  readonly count: number;
  readonly labels: readonly LabelInfo[];
}

/** Whole-waveform scoring with a custom model: base embeddings in engine batches, then the head. */
export async function scoreCustom(model: CustomModel, emb: Embedder, samples: Float32Array): Promise<CustomScores> {
  const e = await emb.embed(samples);
  const duration = samples.length / emb.rateHz;
  const labels = model.labels.map((l) => {
    const t = model.manifest.thresholds[l.name];
    return { ...l, ...(t ? { defaults: t } : {}) };
  });
  return {
    startSeconds: e.startSeconds,
    endSeconds: e.startSeconds.map((s) => Math.min(duration, Math.round((s + emb.spanSeconds) * 1e6) / 1e6)),
    scores: applyHead(model.head, e.embeddings, e.count),
    count: e.count,
    labels,
  };
}

/** The daemon's event stage (smoothing, calibrated hysteresis, minimum duration) over scored hops. */
export function customEvents(r: CustomScores, events: EventsConfig, hopSeconds: number): LabelEvent[] {
  const C = r.labels.length;
  const frames: ScoreFrame[] = [];
  for (let i = 0; i < r.count; i++) frames.push({ sourceId: 'file', startSeconds: r.startSeconds[i]!, tSeconds: r.endSeconds[i]!, scores: r.scores.subarray(i * C, (i + 1) * C), labels: r.labels });
  return framesToEvents(frames, events, hopSeconds);
}
