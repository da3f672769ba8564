import { Observable, type OperatorFunction } from 'rxjs';

import type { LabelInfo } from '../classify/contracts.js';
import type { EventsConfig } from '../config/sections/events.js';
import { EarshotError } from '../errors.js';
import type { LabelEvent, ScoreFrame } from './contracts.js';
import { type LabelThresholds, resolveThresholds } from './thresholds.js';

/**
 * Hysteresis event segmentation without lookahead.
 *
 * A frame at time t scores a window ending at t (frame.startSeconds .. t); each frame
 * adds the audio after the previous frame's end. Per label:
 * - idle -> pending when score >= on; onset = the start of the audio this frame added:
 *   max(window start, previous frame's t). The previous frame was below threshold, so
 *   the sound is attributed to the new audio; the first frame of a stream (or after a
 *   gap) added its whole window, so a sound at 0.0 s starts at 0.0, not one hop later.
 * - pending: while score >= off the event grows; it is announced (`event.start`,
 *   tSeconds/startSeconds back-dated to the onset) on the first frame where
 *   lastActive - onset >= minDuration. Dropping below off first discards it, so an
 *   event shorter than minDuration is never announced.
 * - active -> ending when score < off; the end is the last frame still >= off.
 * - ending: a re-start (score >= on) whose onset is within mergeGap of the end
 *   resumes the same event; once the gap observed exceeds mergeGap, `event.end` is
 *   emitted (so `event.end` lags the offset by mergeGap + one hop at most).
 * End of stream (or a source outage: `flush`) ends active/ending events at their
 * last active frame and discards pending ones.
 * `score` is the peak score so far (start: up to announcement; end: whole event).
 */
type State = { readonly kind: 'idle' } | { kind: 'pending' | 'active' | 'ending'; onset: number; lastActive: number; peak: number; id: string };

const EPS = 1e-6;

export interface SegmenterOptions {
  /** Seconds of new audio each frame adds (config frontend.patchHopSeconds after the tagger's overrides). */
  readonly hopSeconds: number;
}

export class EventSegmenter {
  private thresholds: LabelThresholds | undefined;
  private labels: readonly LabelInfo[] = [];
  private states: State[] = [];
  private seq: number[] = [];
  private sourceId = '';
  /** tSeconds of the previous frame; undefined before the first. */
  private prevT: number | undefined;

  constructor(
    private cfg: EventsConfig,
    private readonly opts: SegmenterOptions,
  ) {
    if (!(opts.hopSeconds > 0)) throw new EarshotError('INPUT_INVALID', `segmenter hopSeconds must be positive, got ${opts.hopSeconds}`);
  }

  /** New thresholds (SIGHUP) apply from the next frame; open events keep their ids. */
  setConfig(cfg: EventsConfig): void {
    this.cfg = cfg;
    this.thresholds = this.labels.length ? resolveThresholds(cfg, this.labels) : undefined;
  }

  push(frame: ScoreFrame): LabelEvent[] {
    this.init(frame);
    const th = this.thresholds!;
    const out: LabelEvent[] = [];
    const t = frame.tSeconds;
    const hop = this.opts.hopSeconds;
    const windowStart = frame.startSeconds ?? t - hop;
    const onset = this.prevT === undefined ? windowStart : Math.max(windowStart, this.prevT);
    this.prevT = t;
    for (let i = 0; i < this.states.length; i++) {
      const s = frame.scores[i]!;
      const st = this.states[i]!;
      const on = th.on[i]!;
      const off = th.off[i]!;
      if (st.kind === 'idle') {
        if (s >= on) this.states[i] = this.open(i, onset, t, s, th, out, frame);
        continue;
      }
      if (st.kind === 'ending') {
        if (s >= on && onset - st.lastActive <= th.mergeGapSeconds[i]! + EPS) {
          st.kind = 'active';
          st.lastActive = t;
          st.peak = Math.max(st.peak, s);
        } else if (t - st.lastActive > th.mergeGapSeconds[i]! + EPS) {
          out.push(this.event('event.end', frame.sourceId, i, st, st.lastActive));
          this.states[i] = s >= on ? this.open(i, onset, t, s, th, out, frame) : { kind: 'idle' };
        }
        continue;
      }
      if (s >= off) {
        st.lastActive = t;
        st.peak = Math.max(st.peak, s);
        if (st.kind === 'pending') this.maybeAnnounce(i, st, th, out, frame.sourceId);
      } else if (st.kind === 'pending') {
        this.states[i] = { kind: 'idle' };
      } else {
        st.kind = 'ending';
        if (t - st.lastActive > th.mergeGapSeconds[i]! + EPS) {
          out.push(this.event('event.end', frame.sourceId, i, st, st.lastActive));
          this.states[i] = { kind: 'idle' };
        }
      }
    }
    return out;
  }

  /** Closes every announced event (end of stream, source down); pending ones vanish. */
  flush(): LabelEvent[] {
    const out: LabelEvent[] = [];
    this.states.forEach((st, i) => {
      if (st.kind === 'active' || st.kind === 'ending') out.push(this.event('event.end', this.sourceId, i, st, st.lastActive));
      this.states[i] = { kind: 'idle' };
    });
    // what follows a flush (a restarted source) is a new stream: its first frame adds its whole window
    this.prevT = undefined;
    return out;
  }

  private init(frame: ScoreFrame): void {
    if (frame.labels !== this.labels) {
      if (this.labels.length && frame.labels.length !== this.labels.length) {
        throw new EarshotError('INPUT_INVALID', `score frame from ${frame.sourceId} has ${frame.labels.length} labels, segmenter was started with ${this.labels.length}`);
      }
      // Resolve before touching any state: a bad override must fail every frame the
      // same way, not leave labels set with no thresholds and no states (a segmenter
      // that silently emits nothing after its source restarts).
      const thresholds = resolveThresholds(this.cfg, frame.labels);
      this.labels = frame.labels;
      this.thresholds = thresholds;
      if (this.states.length === 0) {
        this.states = frame.labels.map(() => ({ kind: 'idle' }));
        this.seq = frame.labels.map(() => 0);
      }
    }
    if (frame.scores.length !== this.labels.length) {
      throw new EarshotError('INPUT_INVALID', `score frame from ${frame.sourceId} at ${frame.tSeconds}s has ${frame.scores.length} scores for ${this.labels.length} labels`);
    }
    this.sourceId = frame.sourceId;
  }

  private open(i: number, onset: number, t: number, s: number, th: LabelThresholds, out: LabelEvent[], frame: ScoreFrame): State {
    this.seq[i]! += 1;
    const st: State = { kind: 'pending', onset, lastActive: t, peak: s, id: `${frame.sourceId}:${i}:${this.seq[i]}` };
    this.maybeAnnounce(i, st, th, out, frame.sourceId);
    return st;
  }

  private maybeAnnounce(i: number, st: Exclude<State, { kind: 'idle' }>, th: LabelThresholds, out: LabelEvent[], sourceId: string): void {
    if (st.lastActive - st.onset + EPS >= th.minDurationSeconds[i]!) {
      st.kind = 'active';
      out.push(this.event('event.start', sourceId, i, st, st.onset));
    }
  }

  private event(type: LabelEvent['type'], sourceId: string, i: number, st: Exclude<State, { kind: 'idle' }>, t: number): LabelEvent {
    const l = this.labels[i]!;
    return { type, id: st.id, sourceId, label: l.name, labelId: l.id, tSeconds: round(t), startSeconds: round(st.onset), endSeconds: round(st.lastActive), score: st.peak };
  }
}

/** Stream times are sums of hop floats; rounding to µs keeps ids and JSON stable. */
function round(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

/**
 * `ScoreFrame`s in, `event.start`/`event.end` out, in stream order; completing the
 * input closes open events. Used by the daemon and by `earshot tag`.
 */
export function segmentEvents(cfg: EventsConfig, opts: SegmenterOptions): OperatorFunction<ScoreFrame, LabelEvent> {
  return (frames) =>
    new Observable<LabelEvent>((sub) => {
      const seg = new EventSegmenter(cfg, opts);
      return frames.subscribe({
        next: (f) => {
          try {
            for (const e of seg.push(f)) sub.next(e);
          } catch (e) {
            sub.error(e);
          }
        },
        error: (e) => sub.error(e),
        complete: () => {
          for (const e of seg.flush()) sub.next(e);
          sub.complete();
        },
      });
    });
}
