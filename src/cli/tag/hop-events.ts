import type { LabelInfo } from '../../classify/contracts.js';
import type { EventsConfig } from '../../config/sections/events.js';
import type { LabelEvent, ScoreFrame } from '../../events/contracts.js';
import { framesToEvents } from '../../events/stage.js';
import type { TagHop } from './contracts.js';

/** The daemon's events stage over an input's hops, each a frame from its start to its end (clipped to the input), as the daemon stamps them. */
export function hopEvents(hops: readonly TagHop[], labels: readonly LabelInfo[], events: EventsConfig, hopSeconds: number): LabelEvent[] {
  const frames: ScoreFrame[] = hops.map((h) => ({ sourceId: 'file', startSeconds: h.start, tSeconds: h.end, scores: h.scores, labels }));
  return framesToEvents(frames, events, hopSeconds);
}
