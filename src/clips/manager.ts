import { mkdirSync } from 'node:fs';
import { readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

import type { Registry } from 'prom-client';

import type { AudioChunk } from '../audio/contracts.js';
import type { LabelInfo } from '../classify/contracts.js';
import type { ClipsConfig } from '../config/sections/clips.js';
import { toEarshotError } from '../errors.js';
import type { LabelEvent, ScoreFrame } from '../events/contracts.js';
import type { ClipRecord, HistoryStore } from '../history/contracts.js';
import type { SourceOutput } from '../pipeline/contracts.js';
import type { Storage } from '../storage/contracts.js';
import { CLIP_EXT, type ClipEncoder, startEncoder } from './encoder.js';
import { clipFilterFor } from './filter.js';
import { type ClipMetrics, createClipMetrics } from './metrics.js';
import { ClipRetention } from './retention.js';
import { type ClipHost, type OpenClip, SourceClips } from './source-clips.js';
import { spectrogramPng } from './spectrogram.js';
import { ClipUploader } from './upload.js';

export interface ClipManagerDeps {
  readonly dir: string;
  /** Prefix of history event ids (`<run>/<event id>`), so clip rows point at their event. */
  readonly runId: string;
  /** Clip rows go to history through this (the HistoryWriter: never waits). */
  readonly record: (c: ClipRecord) => void;
  readonly log: (line: string) => void;
  readonly ffmpeg?: string;
  /** clips.storageUrl opened: finished clips are uploaded there, `dir` is the spool. */
  readonly storage?: Storage;
  /** Wall clock for retention ages (default Date.now). */
  readonly nowMs?: () => number;
}

const INTERRUPTED = 'interrupted: the daemon stopped while writing';

export interface ClipTap {
  /** Every decoded chunk (copied into the ring). */
  audio(chunk: AudioChunk, baseSeconds: number): void;
  /** The pipeline's outputs (frames, events, status), in order. */
  output(o: SourceOutput): void;
  /** URL path of the event's (first) clip when one is being written for it. */
  clipUrl(e: LabelEvent): string | undefined;
}

/** Clip ids are file names and URL path segments: anything but [A-Za-z0-9._-] becomes '_'. */
export function clipId(eventId: string, part: number): string {
  const base = eventId.replace(/[^A-Za-z0-9._-]/g, '_');
  return part === 0 ? base : `${base}.${part}`;
}

/**
 * The daemon's clips: one SourceClips (ring + open clips) per source, a shared
 * limit of open encoders, files under `dir/<source>/`, rows in history.
 * `stop` closes every open clip and waits for the encoders.
 */
export class ClipManager {
  readonly metrics: ClipMetrics;
  private readonly sources = new Map<string, SourceClips>();
  /** Clips closing (encoder finishing, sidecar, row). */
  private readonly pending = new Set<Promise<void>>();
  /** Spectrograms being drawn (after their clip is recorded). */
  private readonly drawings = new Set<Promise<void>>();
  private drawChain: Promise<void> = Promise.resolve();
  private openCount = 0;
  readonly retention: ClipRetention;
  readonly uploader: ClipUploader | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cfg: ClipsConfig,
    private readonly deps: ClipManagerDeps,
    registry: Registry,
  ) {
    this.metrics = createClipMetrics(registry);
    this.retention = new ClipRetention(cfg, {
      dir: deps.dir,
      record: deps.record,
      log: deps.log,
      metrics: this.metrics,
      nowMs: deps.nowMs ?? Date.now,
      ...(deps.storage ? { storage: deps.storage } : {}),
    });
    this.uploader = deps.storage
      ? new ClipUploader({ dir: deps.dir, storage: deps.storage, metrics: this.metrics, log: deps.log, retryInitialSeconds: cfg.uploadRetryInitialSeconds, retryMaxSeconds: cfg.uploadRetryMaxSeconds })
      : undefined;

    mkdirSync(deps.dir, { recursive: true });
  }

  /**
   * After a crash (SIGKILL, power loss), makes history and disk agree before any clip
   * opens: `.part` files and audio files without their sidecar (killed between the
   * rename and the sidecar) are removed and their rows marked failed; a finished clip
   * whose `done` row never reached the database gets it from its sidecar; a `writing`
   * row with no finished file is marked failed. Then the retention index is built and
   * the sweeper started. `reader` is the history store (absent = rows are not checked).
   */
  async recover(reader?: Pick<HistoryStore, 'clip' | 'clipsInState'>): Promise<number> {
    let n = 0;
    const fail = (path: string) => {
      const id = path.replace(/\.[a-z]+$/, '');
      this.deps.record({ id, eventId: '', path, state: 'failed', startSeconds: 0, endSeconds: null, sampleRateHz: 0, bytes: 0, error: INTERRUPTED });
      n++;
    };
    const files = await walk(this.deps.dir);
    const names = new Set(files.map((f) => relative(this.deps.dir, f)));
    for (const f of files) {
      const path = relative(this.deps.dir, f);
      if (f.endsWith('.part')) {
        await rm(f, { force: true });
        fail(path.slice(0, -'.part'.length));
      } else if (/\.(flac|opus)$/.test(f) && !names.has(path.replace(/\.[a-z]+$/, '.json'))) {
        await rm(f, { force: true });
        await rm(f.replace(/\.[a-z]+$/, '.png'), { force: true });
        fail(path);
      }
    }
    if (n) this.deps.log(`clips: removed ${n} partial clip file(s) left by an interrupted run`);
    await this.retention.load();
    if (reader) {
      // A new database (or none yet) has no rows to reconcile.
      const rows = async <T>(q: () => Promise<T>, fallback: T): Promise<T> => {
        try {
          return await q();
        } catch {
          return fallback;
        }
      };
      for (const c of this.retention.list()) {
        const row = await rows(() => reader.clip(c.id), undefined);
        if (row?.state !== 'done') this.deps.record({ ...c.record, ...(row ? { eventId: row.eventId } : {}) });
      }
      for (const row of await rows(() => reader.clipsInState('writing', 100_000), [])) {
        if (this.retention.has(row.id)) continue;
        await rm(join(this.deps.dir, row.path.replace(/\.[a-z]+$/, '.json')), { force: true });
        this.deps.record({ ...row, state: 'failed', bytes: 0, error: INTERRUPTED });
      }
    }
    // With an object store, whatever finished clips the directory holds were not uploaded yet.
    for (const c of this.retention.list()) this.uploader?.enqueue(c.id, c.bytes);
    void this.retention.sweep();
    const every = this.cfg.retentionIntervalSeconds * 1000;
    this.sweepTimer = setInterval(() => void this.retention.sweep(), every);
    this.sweepTimer.unref();
    return n;
  }

  /**
   * The source's clip tap; `labels` are its tagger's (for the include/exclude filter).
   * `audio` takes every decoded chunk (copied into the ring), `output` the pipeline's outputs.
   */
  tap(sourceId: string, labels: readonly LabelInfo[], isSpeech?: (f: ScoreFrame) => boolean): ClipTap {
    const filter = clipFilterFor(this.cfg, sourceId, labels);
    const host: ClipHost = {
      preRollSeconds: this.cfg.preRollSeconds,
      postRollSeconds: this.cfg.postRollSeconds,
      maxSeconds: this.cfg.maxSeconds,
      lagSeconds: this.cfg.ringMarginSeconds,
      open: (e, part, start, rate) => this.open(sourceId, e, part, start, rate),
      skipped: (reason) => this.metrics.dropped.inc({ reason }),
    };
    const s = new SourceClips(host, (e) => filter(e.labelId), this.cfg.preRollSeconds + this.cfg.ringMarginSeconds, isSpeech);
    this.sources.set(sourceId, s);
    this.metrics.ringBytes.set({ source: sourceId }, 0);
    return {
      clipUrl: (e) => {
        if (!s.clipped(e.id)) return undefined;
        return `/clips/${clipId(`${this.deps.runId}/${e.id}`, 0)}.${CLIP_EXT[this.cfg.codec]}`;
      },
      audio: (chunk, base) => {
        s.audio(chunk, base);
        this.metrics.ringBytes.set({ source: sourceId }, s.ring.bytes);
      },
      output: (o) => {
        if (o.kind === 'frame') s.frame(o.frame);
        else if (o.kind === 'event') s.event(o.event);
        else if (o.kind === 'status' && (o.status.state === 'ended' || o.status.state === 'stopped' || o.status.state === 'failed')) s.flush();
      },
    };
  }

  private open(sourceId: string, e: LabelEvent, part: number, start: number, rate: number): OpenClip | undefined {
    if (this.openCount >= this.cfg.maxConcurrent) {
      this.metrics.dropped.inc({ reason: 'busy' });
      return undefined;
    }
    if (this.uploader && this.uploader.spoolBytes >= this.cfg.spoolMaxBytes) {
      this.metrics.dropped.inc({ reason: 'spool_full' });
      return undefined;
    }
    const eventId = `${this.deps.runId}/${e.id}`;
    const id = clipId(eventId, part);
    // Flat: a clip's file name is its id, so HTTP serves it without a database lookup.
    const path = `${id}.${CLIP_EXT[this.cfg.codec]}`;
    const full = join(this.deps.dir, path);
    const kept: Float32Array[] = []; // for the spectrogram; bounded by clips.maxSeconds
    const enc: ClipEncoder = startEncoder(this.deps.ffmpeg ?? 'ffmpeg', this.cfg.codec, rate, full);
    const base = { id, eventId, path, startSeconds: start / rate, sampleRateHz: rate };
    this.deps.record({ ...base, state: 'writing', endSeconds: null, bytes: 0, error: null });
    this.openCount++;
    this.metrics.open.set(this.openCount);
    let closed = false;
    // Privacy drops (state deleted) and clips that got no audio (failed): the encoder is killed,
    // the partial file removed, and the history row says why.
    const abandon = (state: 'deleted' | 'failed', reason: string): void => {
      if (closed) return;
      closed = true;
      kept.length = 0;
      if (state === 'deleted') this.metrics.dropped.inc({ reason: 'speech' });
      else this.metrics.clips.inc({ state: 'failed' });
      const done = (async () => {
        await enc.abort().catch(() => undefined);
        this.deps.record({ ...base, state, endSeconds: null, bytes: 0, error: reason });
        this.openCount--;
        this.metrics.open.set(this.openCount);
      })();
      this.pending.add(done);
      void done.finally(() => this.pending.delete(done));
    };
    return {
      write: (samples) => {
        enc.write(samples);
        kept.push(samples);
      },
      drop: (reason) => abandon('deleted', reason),
      fail: (reason) => abandon('failed', reason),
      close: (end, scores, eventEnd) => {
        if (closed) return;
        closed = true;
        const endSeconds = end / rate;
        const done = (async () => {
          try {
            const bytes = await enc.finish();
            const png = `${id}.png`;
            const drawn = this.drawings.size < this.cfg.maxConcurrent;
            const sidecar = {
              clip: { ...base, endSeconds, samples: end - start, codec: this.cfg.codec, spectrogram: drawn ? png : null },
              event: { id: eventId, source: sourceId, label: e.label, labelId: e.labelId, startSeconds: e.startSeconds, endSeconds: eventEnd ?? null, startScore: e.score },
              label: e.label,
              labelId: e.labelId,
              scores,
            };
            await writeFile(full.replace(/\.[a-z]+$/, '.json'), JSON.stringify(sidecar, null, 1));

            const sidecarPath = full.replace(/\.[a-z]+$/, '.json');
            const record: ClipRecord = { ...base, state: 'done', endSeconds, bytes, error: null };
            this.deps.record(record);
            this.retention.add({ id, labelId: e.labelId, createdMs: (this.deps.nowMs ?? Date.now)(), bytes: bytes + (await stat(sidecarPath)).size, record });
            if (this.cfg.maxBytes > 0 && this.retention.bytes > this.cfg.maxBytes) void this.retention.sweep();
            this.metrics.clips.inc({ state: 'done' });
            this.metrics.bytes.inc(bytes);
            // The PNG is drawn after the clip is recorded: it is an extra, and a slow
            // drawing must not hold up the clip's row (or a stop within its budget).
            // One drawing at a time per daemon; more than maxConcurrent waiting are dropped (counted).
            const samples = concat(kept);
            kept.length = 0;
            const upload = () => {
              const size = this.retention.sizeOf(id);
              if (size !== undefined) this.uploader?.enqueue(id, size);
            };
            if (!drawn) {
              this.metrics.dropped.inc({ reason: 'spectrogram_busy' });
              upload();
            } else {
              const marks = [e.startSeconds, ...(eventEnd === undefined ? [] : [eventEnd])].map((t) => t - base.startSeconds);
              const d = this.drawChain
                .then(async () => {
                  const img = await spectrogramPng({ samples, sampleRateHz: rate, marks });
                  if (!this.retention.has(id)) return; // deleted by retention meanwhile
                  await writeFile(join(this.deps.dir, png), img);
                  // A sweep between the write and here would have removed the PNG with the clip; if not, it counts.
                  if (!this.retention.grow(id, img.length)) await rm(join(this.deps.dir, png), { force: true });
                })
                .catch((err: unknown) => {
                  this.deps.log(`clips: ${id} spectrogram: ${toEarshotError(err).message}`);
                  this.metrics.dropped.inc({ reason: 'spectrogram_failed' });
                });
              void d.then(upload);
              this.drawChain = d;
              this.drawings.add(d);
              void d.finally(() => this.drawings.delete(d));
            }
          } catch (err) {
            const x = toEarshotError(err, 'CLIP_FAILED');
            await enc.abort().catch(() => undefined);
            await rm(full, { force: true });
            await rm(full.replace(/\.[a-z]+$/, '.json'), { force: true });
            this.deps.record({ ...base, state: 'failed', endSeconds, bytes: 0, error: x.message });
            this.metrics.clips.inc({ state: 'failed' });
            this.deps.log(`clips: ${id} failed: [${x.code}] ${x.message}`);
          } finally {
            this.openCount--;
            this.metrics.open.set(this.openCount);
          }
        })();
        this.pending.add(done);
        void done.finally(() => this.pending.delete(done));
      },
    };
  }

  /** Resolves when every clip closed so far is on disk (or failed) and recorded, spectrograms included. */
  async settled(): Promise<void> {
    while (this.pending.size || this.drawings.size) await Promise.all([...this.pending, ...this.drawings]);
  }

  /** Closes every open clip with what its ring holds; resolves once their files and rows are done. */
  async stop(): Promise<void> {
    clearInterval(this.sweepTimer);
    for (const s of this.sources.values()) s.flush();
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** After `stop`: waits for the spectrograms still being drawn. */
  async close(): Promise<void> {
    await this.settled();
    await this.uploader?.stop();
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await walk(p)));
    else out.push(p);
  }
  return out;
}
