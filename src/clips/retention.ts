import { readdir, readFile, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';

import type { ClipRecord } from '../history/contracts.js';
import type { Storage } from '../storage/contracts.js';
import type { ClipMetrics } from './metrics.js';

/** One finished clip on disk: its files (audio, sidecar, spectrogram) count as one unit. */
export interface StoredClip {
  readonly id: string;
  /** Ontology id of the event's label ('' when the sidecar is missing). */
  readonly labelId: string;
  /** When the clip was finished (the audio file's mtime at load). */
  readonly createdMs: number;
  bytes: number;
  /** The history row, for marking it deleted. */
  readonly record: ClipRecord;
}

export interface RetentionPolicy {
  readonly nowMs: number;
  /** 0 = no age limit. */
  readonly maxAgeMs: number;
  /** 0 = no size limit. */
  readonly maxBytes: number;
  /** The newest this many clips of each label are never deleted. */
  readonly minPerLabel: number;
}

export type DeleteReason = 'age' | 'size';

/**
 * Which clips to delete, oldest first: every clip past the age limit, then the oldest
 * until the rest fit maxBytes; a clip is skipped while its label has no more than
 * minPerLabel clips left (so the per-label minimum can keep the total above the quota).
 * `clips` must be sorted oldest first.
 */
export function planSweep(clips: readonly StoredClip[], p: RetentionPolicy): { id: string; reason: DeleteReason }[] {
  const perLabel = new Map<string, number>();
  for (const c of clips) perLabel.set(c.labelId, (perLabel.get(c.labelId) ?? 0) + 1);
  let total = clips.reduce((n, c) => n + c.bytes, 0);
  const out: { id: string; reason: DeleteReason }[] = [];
  for (const c of clips) {
    const old = p.maxAgeMs > 0 && p.nowMs - c.createdMs > p.maxAgeMs;
    const over = p.maxBytes > 0 && total > p.maxBytes;
    // Sorted oldest first: nothing younger is past the age limit, and the total only shrinks.
    if (!old && !over) break;
    const left = perLabel.get(c.labelId)!;
    if (left <= p.minPerLabel) continue;
    perLabel.set(c.labelId, left - 1);
    total -= c.bytes;
    out.push({ id: c.id, reason: old ? 'age' : 'size' });
  }
  return out;
}

export interface ClipRetentionConfig {
  readonly maxAgeDays: number;
  readonly maxBytes: number;
  /** Of the clips directory's filesystem size; 0 = no limit. */
  readonly maxDiskPercent: number;
  readonly minPerLabel: number;
}

export interface ClipRetentionDeps {
  readonly dir: string;
  readonly record: (c: ClipRecord) => void;
  readonly log: (line: string) => void;
  readonly metrics: ClipMetrics;
  readonly nowMs: () => number;
  /** clips.storageUrl: uploaded clips' objects are deleted there too. */
  readonly storage?: Storage;
}

const AUDIO = /\.(flac|opus)$/;
const FILE = /^(.+)\.(flac|opus|json|png)$/;

/**
 * The clip sweeper: an index of the finished clips in `dir` (built from the files and
 * sidecars at start, then fed by the clip manager as clips finish) and the deletions
 * planSweep picks. A clip being written is not in the index (it has only a `.part`
 * file until it is finished), so it is never deleted. Deleted clips' rows go to
 * history as state `deleted`, so history and disk agree. Runs off the live path:
 * file I/O is async and one sweep runs at a time.
 */
export class ClipRetention {
  private readonly clips = new Map<string, StoredClip>();
  private running: Promise<number> | undefined;
  private warned = false;

  constructor(
    private readonly cfg: ClipRetentionConfig,
    private readonly deps: ClipRetentionDeps,
  ) {}

  /** Indexes what `dir` holds (after crash recovery removed partial files). */
  async load(): Promise<number> {
    const names = await readdir(this.deps.dir).catch(() => [] as string[]);
    const byId = new Map<string, string[]>();
    for (const n of names) {
      const m = FILE.exec(n);
      if (m) byId.set(m[1]!, [...(byId.get(m[1]!) ?? []), n]);
    }
    for (const [id, files] of byId) {
      const audio = files.find((f) => AUDIO.test(f));
      if (!audio) continue; // a sidecar or PNG alone belongs to a clip still being finished or already gone
      let bytes = 0;
      let createdMs = 0;
      for (const f of files) {
        const st = await stat(join(this.deps.dir, f)).catch(() => undefined);
        bytes += st?.size ?? 0;
        if (f === audio) createdMs = st?.mtimeMs ?? 0;
      }
      const side = await readFile(join(this.deps.dir, `${id}.json`), 'utf8')
        .then((t) => JSON.parse(t) as { labelId?: string; clip?: { eventId?: string; startSeconds?: number; endSeconds?: number; sampleRateHz?: number } })
        .catch(() => undefined);
      const c = side?.clip;
      const record: ClipRecord = {
        id,
        eventId: c?.eventId ?? '',
        path: audio,
        state: 'done',
        startSeconds: c?.startSeconds ?? 0,
        endSeconds: c?.endSeconds ?? null,
        sampleRateHz: c?.sampleRateHz ?? 0,
        bytes,
        error: null,
      };
      this.clips.set(id, { id, labelId: side?.labelId ?? '', createdMs, bytes, record });
    }
    this.gauges();
    return this.clips.size;
  }

  /** A clip the manager finished (audio and sidecar on disk). */
  add(c: StoredClip): void {
    this.clips.set(c.id, c);
    this.gauges();
  }

  /** More bytes of a known clip (its spectrogram, drawn later); false when it was deleted meanwhile. */
  grow(id: string, bytes: number): boolean {
    const c = this.clips.get(id);
    if (!c) return false;
    c.bytes += bytes;
    this.gauges();
    return true;
  }

  has(id: string): boolean {
    return this.clips.has(id);
  }

  sizeOf(id: string): number | undefined {
    return this.clips.get(id)?.bytes;
  }

  list(): StoredClip[] {
    return [...this.clips.values()];
  }

  get bytes(): number {
    let n = 0;
    for (const c of this.clips.values()) n += c.bytes;
    return n;
  }

  get count(): number {
    return this.clips.size;
  }

  /** The byte quota now: the smaller of maxBytes and maxDiskPercent of the filesystem (0 = none). */
  async quotaBytes(): Promise<number> {
    const caps: number[] = [];
    if (this.cfg.maxBytes > 0) caps.push(this.cfg.maxBytes);
    if (this.cfg.maxDiskPercent > 0) {
      const fs = await statfs(this.deps.dir).catch(() => undefined);
      if (fs) caps.push(Math.floor((fs.blocks * fs.bsize * this.cfg.maxDiskPercent) / 100));
    }
    return caps.length ? Math.min(...caps) : 0;
  }

  /** Deletes what the policy says; resolves with the number of clips deleted. One sweep at a time. */
  sweep(): Promise<number> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<number> {
    const { deps, cfg } = this;
    const maxBytes = await this.quotaBytes();
    const sorted = [...this.clips.values()].sort((a, b) => a.createdMs - b.createdMs || (a.id < b.id ? -1 : 1));
    const plan = planSweep(sorted, { nowMs: deps.nowMs(), maxAgeMs: cfg.maxAgeDays * 86_400_000, maxBytes, minPerLabel: cfg.minPerLabel });
    for (const { id, reason } of plan) {
      const c = this.clips.get(id);
      if (!c) continue;
      this.clips.delete(id);
      const exts = ['flac', 'opus', 'json', 'png'];
      await Promise.all(exts.map((ext) => rm(join(deps.dir, `${id}.${ext}`), { force: true })));
      const remote = deps.storage;
      if (remote) {
        for (const ext of exts) {
          await remote.delete(`${id}.${ext}`).catch((e: Error) => deps.log(`clips: retention could not delete ${id}.${ext} from ${remote.url}: ${e.message}`));
        }
      }
      deps.record({ ...c.record, state: 'deleted', bytes: 0, error: `retention: ${reason}` });
      deps.metrics.deleted.inc({ reason });
    }
    this.gauges();
    const left = this.bytes;
    if (maxBytes > 0 && left > maxBytes && !this.warned) {
      this.warned = true;
      deps.log(`clips: ${left} bytes kept, above the ${maxBytes}-byte quota, because clips.minPerLabel (${cfg.minPerLabel}) keeps the newest clips of each label`);
    }
    return plan.length;
  }

  private gauges(): void {
    this.deps.metrics.storedBytes.set(this.bytes);
    this.deps.metrics.stored.set(this.clips.size);
  }
}
