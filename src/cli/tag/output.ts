import { topK } from '../../classify/top-k.js';
import { topLabels } from '../../models/yamnet/tag-audio.js';
import { eventPayload, round4, scoresPayload } from '../../server/protocol.js';
import type { TagMode, TagResult } from './contracts.js';

/**
 * How `earshot tag` prints a result block. Text: one line per hop and per event in
 * stream time (`--clip`: one line at t = duration; `--summary`: one line naming the
 * input). JSON lines: hops and events are the WebSocket's `scores`/`event.*` messages from
 * the server's own serializers (docs/protocol.md), each with `file` when several inputs are
 * tagged (and always on summaries). CSV: one header, then one row per label of a hop
 * (`rank` 1..k), per event, per clip/summary label.
 */
export type TagFormat = 'text' | 'json' | 'csv';

export interface TagWriteOptions {
  readonly format: TagFormat;
  readonly mode: TagMode;
  readonly top: number;
  /** Several inputs: name the file on every record (and head text blocks with it). */
  readonly many: boolean;
}

export const CSV_HEADER = 'file,type,start,end,rank,label,id,score';

const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** RFC 4180 field: quoted when it holds a comma, quote or line break (AudioSet names have commas). */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

type Line = { t: number; text: string };

export function formatResult(file: string, r: TagResult, o: TagWriteOptions): string[] {
  const top = (scores: Float32Array) => topLabels(scores, r.labels, o.top);
  const named = o.many ? { file } : {};
  const duration = r6(r.durationSeconds);
  const labelsText = (scores: Float32Array) =>
    top(scores)
      .map((l) => `${l.label} ${l.score.toFixed(3)}`)
      .join(' | ');
  const labelsJson = (scores: Float32Array) => top(scores).map((l) => ({ label: l.label, id: l.id, score: Number(l.score.toFixed(6)) }));
  const csvRows = (type: string, start: number, end: number, scores: Float32Array) =>
    top(scores).map((l, i) => [file, type, r6(start), r6(end), i + 1, l.label, l.id, round4(l.score)].map(csvField).join(','));

  if (o.mode !== 'hops') {
    const clip = r.clip!;
    if (o.format === 'csv') return csvRows(o.mode, 0, r.durationSeconds, clip);
    if (o.mode === 'summary') {
      if (o.format === 'json') return [JSON.stringify({ type: 'summary', file, start: 0, end: duration, top: labelsJson(clip) })];
      return [`${file} (${r.durationSeconds.toFixed(2)} s): ${labelsText(clip)}`];
    }
    if (o.format === 'json') return [JSON.stringify({ ...named, t: duration, top: labelsJson(clip) })];
    return [...(o.many ? [`== ${file}`] : []), `${duration.toFixed(2).padStart(8)}s  ${labelsText(clip)}`];
  }

  const lines: Line[] = [];
  for (const h of r.hops) {
    const start = r6(h.start);
    const end = r6(h.end);
    if (o.format === 'csv') lines.push({ t: start, text: csvRows('hop', start, end, h.scores).join('\n') });
    else if (o.format === 'json') {
      const frame = { sourceId: 'file', startSeconds: h.start, tSeconds: h.end, scores: h.scores, labels: r.labels };
      lines.push({ t: start, text: JSON.stringify({ ...scoresPayload(frame, topK(h.scores, o.top), 'start'), ...named }) });
    } else lines.push({ t: start, text: `${start.toFixed(2).padStart(8)}s  ${labelsText(h.scores)}` });
  }
  for (const e of r.events) {
    let text: string;
    if (o.format === 'csv') text = [file, e.type, r6(e.startSeconds), r6(e.endSeconds), '', e.label, e.labelId, round4(e.score)].map(csvField).join(',');
    else if (o.format === 'json') text = JSON.stringify({ ...eventPayload(e), ...named });
    else text = `${e.tSeconds.toFixed(2).padStart(8)}s  ${e.type === 'event.start' ? '>>' : '<<'} ${e.label} (${e.type}, ${e.id}, score ${e.score.toFixed(3)})`;
    lines.push({ t: e.tSeconds, text });
  }
  // Stable sort: hops and events interleave in stream time, hops first on ties.
  lines.sort((a, b) => a.t - b.t);
  return [...(o.many && o.format === 'text' ? [`== ${file}`] : []), ...lines.map((l) => l.text)];
}
