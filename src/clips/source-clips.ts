import type { AudioChunk } from '../audio/contracts.js';
import type { LabelEvent, ScoreFrame } from '../events/contracts.js';
import { SampleRing } from './ring.js';

/** What a SourceClips needs from its manager (files, encoders, limits, history). */
export interface ClipHost {
  readonly preRollSeconds: number;
  readonly postRollSeconds: number;
  readonly maxSeconds: number;
  /** Samples are written this far behind live, so an event's end (known late) is still ahead. */
  readonly lagSeconds: number;
  /** A new clip for `event` (part 0, 1, ...) starting at absolute sample `start`, or undefined when busy. */
  open(event: LabelEvent, part: number, start: number, rateHz: number): OpenClip | undefined;
  /** An event that got no clip for `reason` (counted). */
  skipped?(reason: string): void;
}

export interface OpenClip {
  write(samples: Float32Array): void;
  /** Done: [start, end) samples were written; `scores` is the label's score per frame over them. */
  close(endSample: number, scores: readonly { tSeconds: number; score: number }[], eventEndSeconds: number | undefined): void;
  /** Dropped (privacy): the encoder is killed and the partial file removed. */
  drop(reason: string): void;
  /** Nothing could be written (the audio left the ring first): recorded as failed with `reason`, no file kept. */
  fail(reason: string): void;
}

/** A frame's scores describe about this much audio before its tSeconds (judged generously, for privacy). */
const FRAME_SPAN_SECONDS = 1;

interface Active {
  readonly event: LabelEvent;
  readonly clip: OpenClip;
  readonly part: number;
  readonly startSample: number;
  /** Next absolute sample to write. */
  next: number;
  /** Absolute sample to stop at, once the event has ended. */
  stopAt: number | undefined;
  /** The event's end (stream seconds), once known. */
  endSeconds: number | undefined;
}

/**
 * One source's clips: keeps the ring buffer and the frames of the last ring's
 * length, opens a clip at each wanted event.start (pre-roll from the ring) and
 * feeds it from the ring `lagSeconds` behind live until event end + post-roll.
 * Everything here is synchronous and bounded; encoding happens in the host's encoders.
 */
export class SourceClips {
  readonly ring: SampleRing;
  private active: Active[] = [];
  private frames: ScoreFrame[] = [];
  private rate = 0;
  private baseSample = 0;

  constructor(
    private readonly host: ClipHost,
    private readonly wants: (e: LabelEvent) => boolean,
    ringSeconds: number,
    /** privacy.dropSpeech: frames with speech; a clip they overlap is dropped (or not opened). */
    private readonly isSpeech?: (f: ScoreFrame) => boolean,
  ) {
    this.ring = new SampleRing(ringSeconds);
  }

  /** True while the event has an open clip (any part). */
  clipped(eventId: string): boolean {
    return this.active.some((a) => a.event.id === eventId);
  }

  get openClips(): number {
    return this.active.length;
  }

  audio(chunk: AudioChunk, baseSeconds: number): void {
    this.rate = chunk.sampleRateHz;
    const start = Math.round(baseSeconds * chunk.sampleRateHz) + chunk.startSample;
    if (start !== this.ring.endSample && this.ring.endSample > 0) this.closeAll(); // a gap: the stream restarted
    this.ring.push(chunk.samples, start, chunk.sampleRateHz);
    this.drain(this.ring.endSample - Math.round(this.host.lagSeconds * this.rate));
  }

  frame(f: ScoreFrame): void {
    this.frames.push(f);
    if (this.isSpeech?.(f)) {
      const from = (f.tSeconds - FRAME_SPAN_SECONDS) * this.rate;
      for (const a of [...this.active]) {
        if (f.tSeconds * this.rate > a.startSample && (a.stopAt === undefined || from < a.stopAt)) {
          this.active = this.active.filter((x) => x !== a);
          a.clip.drop('privacy.dropSpeech: speech overlaps the clip');
        }
      }
    }
    const keep = this.ring.endSample / (this.rate || 1) - this.host.preRollSeconds - this.host.maxSeconds;
    while (this.frames.length > 1 && this.frames[0]!.tSeconds < keep) this.frames.shift();
  }

  event(e: LabelEvent): void {
    if (e.type === 'event.start') {
      if (!this.rate || !this.wants(e)) return;
      const from = Math.max(this.ring.startSample, Math.round((e.startSeconds - this.host.preRollSeconds) * this.rate));
      if (this.isSpeech && this.frames.some((f) => f.tSeconds * this.rate > from && this.isSpeech!(f))) {
        this.host.skipped?.('speech');
        return;
      }
      this.openPart(e, 0, from);
      return;
    }
    for (const a of this.active) {
      if (a.event.id !== e.id) continue;
      a.stopAt = Math.round((e.tSeconds + this.host.postRollSeconds) * this.rate);
      a.endSeconds = e.tSeconds;
    }
  }

  /** Source ended/stopped: every clip gets what the ring holds up to its end. */
  flush(): void {
    this.drain(this.ring.endSample);
    this.closeAll();
  }

  private openPart(e: LabelEvent, part: number, from: number): Active | undefined {
    const clip = this.host.open(e, part, from, this.rate);
    if (!clip) return undefined;
    const a: Active = { event: e, clip, part, startSample: from, next: from, stopAt: undefined, endSeconds: undefined };
    this.active.push(a);
    return a;
  }

  /** Writes every open clip up to absolute sample `upTo`; closes the finished ones, splits the long ones. */
  private drain(upTo: number): void {
    const maxLen = Math.round(this.host.maxSeconds * this.rate);
    for (const a of [...this.active]) {
      const partEnd = a.startSample + maxLen;
      const to = Math.min(upTo, a.stopAt ?? Infinity, partEnd);
      if (to > a.next) {
        const r = this.ring.read(a.next, to);
        if (r.start !== a.next) {
          // The ring no longer holds what this clip needs (the detection came later than the margin):
          // keep what was written, but an empty clip is a failure, never a silent "done".
          if (a.next === a.startSample) {
            this.active = this.active.filter((x) => x !== a);
            a.clip.fail(`the event's audio left the ring before it could be written: raise clips.ringMarginSeconds (${this.host.lagSeconds} s)`);
          } else this.close(a, a.next);
          continue;
        }
        a.clip.write(r.samples);
        a.next = to;
      }
      if (a.stopAt !== undefined && a.next >= a.stopAt) this.close(a, a.next);
      else if (a.next >= partEnd) {
        this.close(a, a.next);
        const b = this.openPart(a.event, a.part + 1, a.next);
        if (b) {
          b.stopAt = a.stopAt;
          b.endSeconds = a.endSeconds;
        }
      }
    }
  }

  private close(a: Active, end: number): void {
    this.active = this.active.filter((x) => x !== a);
    const t0 = a.startSample / this.rate;
    const t1 = end / this.rate;
    const idx = a.event.labelId;
    const scores = this.frames.filter((f) => f.tSeconds >= t0 && f.tSeconds <= t1 + 1).map((f) => ({ tSeconds: f.tSeconds, score: f.scores[f.labels.findIndex((l) => l.id === idx)] ?? 0 }));
    a.clip.close(end, scores, a.endSeconds);
  }

  private closeAll(): void {
    for (const a of [...this.active]) this.close(a, a.next);
  }
}
