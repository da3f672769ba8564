import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { EventQuery, HistoryStore, StoredEvent } from '../history/contracts.js';

export interface ExportResult {
  readonly events: number;
  readonly clips: number;
  /** Clip files history lists as done but the clips directory no longer has (deleted by hand). */
  readonly missing: readonly string[];
  readonly csvPath: string;
}

const CSV_COLUMNS = ['id', 'source', 'label', 'label_id', 'start_s', 'end_s', 'time', 'peak_score', 'mean_score', 'model', 'clips'] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, quotes doubled. */
export function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvRow(e: StoredEvent, files: readonly string[]): string {
  const t = e.wallStartMs === null ? null : new Date(e.wallStartMs).toISOString();
  return [e.id, e.stream.name, e.label, e.labelId, e.startSeconds, e.endSeconds, t, e.peakScore, e.meanScore, e.model, files.join(' ')].map(csvField).join(',');
}

/**
 * `earshot clips export`: every event matching `query` (all pages, newest first) goes
 * into `<out>/events.csv`; the files of its finished clips (audio, sidecar JSON,
 * spectrogram PNG when drawn) are copied from `clipsDir` into `out`. Events without a
 * clip are listed too, with an empty `clips` column. Files are copied one at a time.
 */
export async function exportClips(
  store: Pick<HistoryStore, 'events' | 'clipsOf'>,
  clipsDir: string,
  out: string,
  query: Omit<EventQuery, 'limit' | 'cursor'>,
  onProgress: (eventsDone: number) => void = () => undefined,
): Promise<ExportResult> {
  await mkdir(out, { recursive: true });
  const rows: string[] = [CSV_COLUMNS.join(',')];
  const missing: string[] = [];
  let events = 0;
  let clips = 0;
  let cursor: string | undefined;
  do {
    const page = await store.events({ ...query, limit: 500, ...(cursor ? { cursor } : {}) });
    for (const e of page.events) {
      const files: string[] = [];
      for (const c of await store.clipsOf(e.id)) {
        if (c.state !== 'done') continue;
        const base = c.path.replace(/\.[a-z]+$/, '');
        const audio = await stat(join(clipsDir, c.path)).catch(() => undefined);
        if (!audio) {
          missing.push(c.path);
          continue;
        }
        for (const f of [c.path, `${base}.json`, `${base}.png`]) {
          const copied = await copyFile(join(clipsDir, f), join(out, f)).then(
            () => true,
            () => false, // a sidecar or spectrogram may be missing (not drawn under load)
          );
          if (copied && f === c.path) files.push(f);
        }
        clips++;
      }
      rows.push(csvRow(e, files));
      onProgress(++events);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  const csvPath = join(out, 'events.csv');
  await writeFile(csvPath, `${rows.join('\r\n')}\r\n`);
  return { events, clips, missing, csvPath };
}
