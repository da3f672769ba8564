import { EarshotError } from '../../errors.js';
import { resample } from '../../features/resample.js';
import type { TaggedAudio } from '../yamnet/tag-audio.js';
import type { EfficientAtTagger } from './tagger.js';

/**
 * File tagging with EfficientAT. The network was trained on 10 s clips and degrades on
 * short inputs, so per-hop scores come from a sliding window of recent context: every
 * `hopSeconds` the last `windowSeconds` of audio (zero-padded on the left at the start, as
 * training padded short clips with zeros) is scored, and the scores are attributed to
 * that hop (stamped with the hop's start). This is what the daemon sees live.
 */
export interface ContextWindow {
  readonly windowSeconds: number;
  readonly hopSeconds: number;
}

/** One prediction over the whole file: the authors' inference on a clip of any length. */
export async function tagClip(tagger: EfficientAtTagger, samples: Float32Array, sampleRateHz: number): Promise<TaggedAudio & { readonly durationSeconds: number }> {
  const { data, frames } = tagger.logMel(samples, sampleRateHz);
  const r = await tagger.scoreMels(data, frames, 1);
  return { startSeconds: [0], scores: r.scores, count: 1, labels: tagger.labels, durationSeconds: samples.length / sampleRateHz };
}

/** Hop ends in samples at the model rate: every hop, plus a last partial hop ending at the file's end. */
export function hopEnds(n: number, hop: number): number[] {
  const ends: number[] = [];
  for (let e = hop; e <= n; e += hop) ends.push(e);
  if (n > 0 && (ends.length === 0 || ends[ends.length - 1]! < n)) ends.push(n);
  return ends;
}

export async function tagWindows(tagger: EfficientAtTagger, samples: Float32Array, sampleRateHz: number, ctx: ContextWindow, batch = 8): Promise<TaggedAudio> {
  const rate = tagger.mel.sampleRateHz;
  const win = Math.round(ctx.windowSeconds * rate);
  const hop = Math.round(ctx.hopSeconds * rate);
  if (!(win > tagger.mel.hopLength) || !(hop > 0)) throw new EarshotError('CONFIG_INVALID', `context window ${ctx.windowSeconds} s / hop ${ctx.hopSeconds} s is too short`, { ...ctx });
  const x = sampleRateHz === rate ? samples : Float32Array.from(resample(samples, sampleRateHz, rate));
  const ends = hopEnds(x.length, hop);
  const classes = tagger.labels.length;
  const scores = new Float32Array(ends.length * classes);
  const buf = new Float32Array(win);
  // Windows are made and scored a batch at a time: a long file never holds all its log-mels.
  for (let b0 = 0; b0 < ends.length; b0 += batch) {
    const group = ends.slice(b0, b0 + batch);
    let frames = 0;
    let mels: Float32Array | undefined;
    group.forEach((end, i) => {
      const start = end - win;
      buf.fill(0);
      buf.set(x.subarray(Math.max(0, start), end), Math.max(0, -start));
      const m = tagger.frontend.compute(buf);
      frames = m.frames;
      mels ??= new Float32Array(group.length * m.data.length);
      mels.set(m.data, i * m.data.length);
    });
    const r = await tagger.scoreMels(mels!, frames, group.length);
    scores.set(r.scores, b0 * classes);
  }
  const startSeconds = ends.map((e) => Math.round((Math.ceil(e / hop) - 1) * ctx.hopSeconds * 1e6) / 1e6);
  return { startSeconds, scores, count: ends.length, labels: tagger.labels };
}

/** Clip-level scores of a per-hop model: the mean of its hop scores (YAMNet's own clip rule). */
export function clipMean(r: TaggedAudio): Float32Array {
  const classes = r.labels.length;
  const out = new Float32Array(classes);
  if (r.count === 0) return out;
  for (let c = 0; c < classes; c++) {
    let s = 0;
    for (let i = 0; i < r.count; i++) s += r.scores[i * classes + c]!;
    out[c] = s / r.count;
  }
  return out;
}
