import { toEarshotError } from '../errors.js';
import type { ClipRecord, EventRecord, HistoryBatch, SegmentRecord } from './contracts.js';
import type { HistoryMetrics } from './metrics.js';
import type { HistorySink } from './worker-client.js';

export interface WriterOptions {
  readonly queueMaxRecords: number;
  readonly batchMaxRecords: number;
  readonly flushSeconds: number;
  readonly retrySeconds: number;
  readonly metrics: HistoryMetrics;
  readonly log: (line: string) => void;
  /** Retention pass every intervalSeconds (and once at start); omitted = none. */
  readonly retention?: { readonly maxAgeMs: number; readonly maxBytes: number; readonly intervalSeconds: number };
  readonly nowMs?: () => number;
}

/**
 * The live path's only door to history. `add` never waits: records go into a bounded
 * queue (over the bound the oldest segment goes first, events last; each drop is
 * counted) and are committed in batches by the sink (a worker thread) within
 * flushSeconds. A failed commit is counted, logged once per failure streak and
 * retried with the same batch; the pipeline and its WebSocket clients never notice.
 * `stop` commits everything accepted so far, then closes the sink.
 */
export class HistoryWriter {
  private events: EventRecord[] = [];
  private segments: SegmentRecord[] = [];
  /** Few (one per clip state change) and never dropped: a clip row must end up matching its file. */
  private clips: ClipRecord[] = [];
  private retry: HistoryBatch | undefined;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private failing = false;
  private stopped = false;
  private readonly now: () => number;

  constructor(
    private readonly sink: HistorySink,
    private readonly opts: WriterOptions,
  ) {
    this.now = opts.nowMs ?? Date.now;
    const r = opts.retention;
    if (r && (r.maxAgeMs > 0 || r.maxBytes > 0)) {
      this.retentionTimer = setInterval(() => void this.retain(), r.intervalSeconds * 1000);
      this.retentionTimer.unref();
      void this.retain();
    }
  }

  get queued(): number {
    const r = this.retry;
    return this.events.length + this.segments.length + this.clips.length + (r ? r.events.length + r.segments.length + (r.clips?.length ?? 0) : 0);
  }

  addSegment(s: SegmentRecord): void {
    if (this.stopped) return;
    this.segments.push(s);
    this.admitted();
  }

  addEvent(e: EventRecord): void {
    if (this.stopped) return;
    this.events.push(e);
    this.admitted();
  }

  addClip(c: ClipRecord): void {
    if (this.stopped) return;
    this.clips.push(c);
    this.admitted();
  }

  private admitted(): void {
    let over = this.queued - this.opts.queueMaxRecords;
    if (over > 0) {
      const fromSegments = Math.min(over, this.segments.length);
      this.segments.splice(0, fromSegments);
      over -= fromSegments;
      if (over > 0) this.events.splice(0, Math.min(over, this.events.length));
      this.opts.metrics.dropped.inc(fromSegments + Math.max(0, over));
    }
    this.opts.metrics.queued.set(this.queued);
    if (this.events.length + this.segments.length >= this.opts.batchMaxRecords) this.schedule(0);
    else this.schedule(this.opts.flushSeconds * 1000);
  }

  private schedule(ms: number): void {
    if (this.inFlight || this.stopped) return;
    if (this.timer && ms > 0) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, ms);
  }

  private take(): HistoryBatch | undefined {
    if (this.retry) return this.retry;
    if (this.events.length + this.segments.length + this.clips.length === 0) return undefined;
    const max = this.opts.batchMaxRecords;
    // Events before clips: a clip row is upserted after its event exists.
    const events = this.events.splice(0, max);
    const segments = this.segments.splice(0, max - events.length);
    const clips = this.clips.splice(0, this.clips.length);
    return clips.length ? { events, segments, clips } : { events, segments };
  }

  /** Commits one batch; resolves false when it failed (kept for retry). */
  private flush(): Promise<boolean> {
    if (this.inFlight) return this.inFlight.then(() => this.flush());
    const batch = this.take();
    if (!batch) return Promise.resolve(true);
    this.retry = batch;
    let ok = false;
    this.inFlight = this.sink.write(batch).then(
      () => {
        ok = true;
        this.retry = undefined;
        if (batch.events.length) this.opts.metrics.written.inc({ kind: 'event' }, batch.events.length);
        if (batch.segments.length) this.opts.metrics.written.inc({ kind: 'segment' }, batch.segments.length);
        if (batch.clips?.length) this.opts.metrics.written.inc({ kind: 'clip' }, batch.clips.length);
        if (this.failing) this.opts.log('history: writes succeed again');
        this.failing = false;
      },
      (e: unknown) => {
        const err = toEarshotError(e, 'HISTORY_FAILED');
        this.opts.metrics.writeErrors.inc({ code: err.code });
        if (!this.failing) this.opts.log(`history: write failed, retrying every ${this.opts.retrySeconds}s: [${err.code}] ${err.message}`);
        this.failing = true;
      },
    );
    return this.inFlight.then(() => {
      this.inFlight = undefined;
      this.opts.metrics.queued.set(this.queued);
      if (!this.stopped) {
        if (!ok) this.schedule(this.opts.retrySeconds * 1000);
        else if (this.events.length + this.segments.length >= this.opts.batchMaxRecords) this.schedule(0);
        else if (this.queued > 0) this.schedule(this.opts.flushSeconds * 1000);
      }
      return ok;
    });
  }

  private async retain(): Promise<void> {
    const r = this.opts.retention!;
    try {
      const res = await this.sink.retain({ nowMs: this.now(), maxAgeMs: r.maxAgeMs, maxBytes: r.maxBytes });
      this.opts.metrics.retentionDeleted.inc({ kind: 'segment' }, res.deletedSegments);
      this.opts.metrics.retentionDeleted.inc({ kind: 'event' }, res.deletedEvents);
      this.opts.metrics.bytes.set(res.bytesAfter);
    } catch (e) {
      const err = toEarshotError(e, 'HISTORY_FAILED');
      this.opts.metrics.writeErrors.inc({ code: err.code });
      this.opts.log(`history: retention failed: [${err.code}] ${err.message}`);
    }
  }

  /**
   * Commits everything accepted, then closes the sink. A sink that keeps failing gets
   * `attempts` tries per batch; what is left then is reported (and counted as dropped).
   */
  async stop(attempts = 3): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.retentionTimer);
    let tries = 0;
    while (this.queued > 0 && tries < attempts) {
      if (await this.flush()) tries = 0;
      else tries++;
    }
    if (this.queued > 0) {
      this.opts.log(`history: ${this.queued} records could not be written before stopping`);
      this.opts.metrics.dropped.inc(this.queued);
    }
    await this.sink.close();
  }
}
