import type { LabelEvent, ScoreFrame } from '../events/contracts.js';
import type { EventRecord, SegmentRecord } from './contracts.js';
import { type PoolOptions, SegmentPooler } from './segments.js';

export interface RecordSink {
  addSegment(s: SegmentRecord): void;
  addEvent(e: EventRecord): void;
}

interface Open {
  readonly start: LabelEvent;
  readonly index: number;
  readonly wallStartMs: number;
  peak: number;
  sum: number;
  n: number;
}

/**
 * One live source's tap into history: frames become pooled segments, events are
 * written at start (end null, so a crash still leaves them) and completed at end with
 * their peak and mean score over the frames they span. Ids get the daemon's run id
 * in front, since WebSocket event ids restart with every run.
 */
export class SourceRecorder {
  private readonly pooler: SegmentPooler;
  private readonly open = new Map<string, Open>();

  constructor(
    private readonly sourceId: string,
    private readonly runId: string,
    private readonly hopSeconds: number,
    private readonly opts: PoolOptions,
    private readonly sink: RecordSink,
    private readonly nowMs: () => number,
    /** privacy.dropSpeech: frames whose segment keeps no embedding. */
    private readonly isSpeech?: (f: ScoreFrame) => boolean,
  ) {
    this.pooler = new SegmentPooler({ kind: 'source', name: sourceId }, opts);
  }

  frame(f: ScoreFrame): void {
    for (const o of this.open.values()) {
      const s = f.scores[o.index]!;
      o.sum += s;
      o.n++;
      if (s > o.peak) o.peak = s;
    }
    const wallMs = this.nowMs() - this.hopSeconds * 1000;
    const seg = this.pooler.push({
      startSeconds: Math.max(0, f.tSeconds - this.hopSeconds),
      endSeconds: f.tSeconds,
      scores: f.scores,
      labels: f.labels,
      embedding: f.embedding,
      wallMs,
      dropEmbedding: this.isSpeech?.(f) ?? false,
    });
    if (seg) this.sink.addSegment(seg);
  }

  event(e: LabelEvent, labelIndex: number): void {
    if (e.type === 'event.start') {
      const o: Open = { start: e, index: labelIndex, wallStartMs: this.nowMs() - (e.tSeconds - e.startSeconds) * 1000, peak: e.score, sum: e.score, n: 1 };
      this.open.set(e.id, o);
      this.sink.addEvent(this.record(o, null));
      return;
    }
    const o = this.open.get(e.id);
    if (!o) return;
    this.open.delete(e.id);
    o.peak = Math.max(o.peak, e.score);
    this.sink.addEvent(this.record(o, e.tSeconds));
  }

  /** End of stream/stop: the partial segment. */
  flush(): void {
    const seg = this.pooler.flush();
    if (seg) this.sink.addSegment(seg);
  }

  private record(o: Open, end: number | null): EventRecord {
    const e = o.start;
    return {
      id: `${this.runId}/${e.id}`,
      stream: { kind: 'source', name: this.sourceId },
      label: e.label,
      labelId: e.labelId,
      startSeconds: e.startSeconds,
      endSeconds: end,
      peakScore: Math.round(o.peak * 1e4) / 1e4,
      meanScore: Math.round((o.sum / o.n) * 1e4) / 1e4,
      model: this.opts.model,
      wallStartMs: Math.round(o.wallStartMs),
    };
  }
}
