import type { EventsConfig } from '../config/sections/events.js';
import type { LabelEvent, ScoreFrame } from './contracts.js';
import { EventSegmenter } from './segment.js';
import { ScoreSmoother } from './smooth.js';

/**
 * The events stage, shared by the daemon (one per source subscription, fed frame by
 * frame) and by `earshot tag` (framesToEvents over a file's frames): smoothing with
 * events.smoothingSeconds, then hysteresis segmentation. Plain push/flush, no RxJS,
 * so the offline and live paths run the very same code.
 */
export class EventStage {
  private readonly smoother: ScoreSmoother;
  private readonly segmenter: EventSegmenter;

  constructor(cfg: EventsConfig, hopSeconds: number) {
    this.smoother = new ScoreSmoother(cfg.smoothingSeconds);
    this.segmenter = new EventSegmenter(cfg, { hopSeconds });
  }

  /** The smoothed frame (what subscribers see) and the events it completes. */
  push(frame: ScoreFrame): { readonly frame: ScoreFrame; readonly events: LabelEvent[] } {
    const smoothed = this.smoother.push(frame);
    return { frame: smoothed, events: this.segmenter.push(smoothed) };
  }

  /** End of stream or source down: closes announced events; the next frame starts a new average. */
  flush(): LabelEvent[] {
    this.smoother.reset();
    return this.segmenter.flush();
  }

  /** SIGHUP: thresholds change from the next frame; smoothing keeps its start-up constant. */
  setConfig(cfg: EventsConfig): void {
    this.segmenter.setConfig(cfg);
  }
}

/** A whole stream's frames (in stream order) to its events, open ones closed at the end. */
export function framesToEvents(frames: Iterable<ScoreFrame>, config: EventsConfig, hopSeconds: number): LabelEvent[] {
  const stage = new EventStage(config, hopSeconds);
  const out: LabelEvent[] = [];
  for (const f of frames) out.push(...stage.push(f).events);
  out.push(...stage.flush());
  return out;
}
