import type { EventsConfig } from '../config/sections/events.js';
import type { FrontendConfig } from '../config/sections/frontend.js';
import type { ScoreFrame } from '../events/contracts.js';
import { framesToEvents } from '../events/stage.js';
import { windowEndSeconds } from '../features/timing.js';
import { tagWaveform } from '../models/yamnet/tag-audio.js';
import type { YamnetTagger } from '../models/yamnet/tagger.js';
import type { EventRecord, HistoryBatch, StreamRef } from './contracts.js';
import { type PoolOptions, SegmentPooler } from './segments.js';

/**
 * A whole file through the same stages as `earshot tag` and the daemon: YAMNet over
 * every hop, frames stamped at hop end, smoothing and hysteresis events from
 * config events.*, segments pooled as the live recorder pools them.
 */
export async function tagFileForHistory(
  tagger: YamnetTagger,
  samples: Float32Array,
  sampleRateHz: number,
  stream: StreamRef,
  frontend: FrontendConfig,
  events: EventsConfig,
  pool: Omit<PoolOptions, 'model'>,
): Promise<HistoryBatch> {
  const r = await tagWaveform(tagger, samples, sampleRateHz, frontend);
  const classes = r.labels.length;
  const dim = r.count ? r.embeddings.length / r.count : 0;
  const pooler = new SegmentPooler(stream, { ...pool, model: tagger.name });
  const frames: ScoreFrame[] = [];
  const segments = [];
  const hop = frontend.patchHopSeconds;
  for (let i = 0; i < r.count; i++) {
    const scores = r.scores.subarray(i * classes, (i + 1) * classes);
    const t = windowEndSeconds(r.startSeconds[i]!, frontend.patchFrames, frontend);
    frames.push({ sourceId: stream.name, tSeconds: t, scores, labels: r.labels });
    const embedding = r.embeddings.subarray(i * dim, (i + 1) * dim);
    const s = pooler.push({ startSeconds: r.startSeconds[i]!, endSeconds: r.startSeconds[i]! + hop, scores, labels: r.labels, embedding, wallMs: null });
    if (s) segments.push(s);
  }
  const last = pooler.flush();
  if (last) segments.push(last);
  const labelEvents = framesToEvents(frames, events, hop);
  const index = new Map(r.labels.map((l) => [l.id, l.index]));
  const out: EventRecord[] = [];
  for (const e of labelEvents) {
    if (e.type !== 'event.end') continue;
    const li = index.get(e.labelId) ?? 0;
    let sum = 0;
    let n = 0;
    for (const f of frames) {
      if (f.tSeconds > e.startSeconds && f.tSeconds <= e.tSeconds + 1e-9) {
        sum += f.scores[li]!;
        n++;
      }
    }
    out.push({
      id: `${stream.name}#${e.id.slice(e.id.indexOf(':') + 1)}`,
      stream,
      label: e.label,
      labelId: e.labelId,
      startSeconds: e.startSeconds,
      endSeconds: e.tSeconds,
      peakScore: Math.round(e.score * 1e4) / 1e4,
      meanScore: n ? Math.round((sum / n) * 1e4) / 1e4 : e.score,
      model: tagger.name,
      wallStartMs: null,
    });
  }
  return { events: out, segments };
}
