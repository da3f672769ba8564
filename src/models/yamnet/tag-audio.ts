import type { LabelInfo } from '../../classify/contracts.js';
import { topK } from '../../classify/top-k.js';
import type { FrontendConfig } from '../../config/sections/frontend.js';
import type { Patch } from '../../features/contracts.js';
import { computeLogMelPatches, resample } from '../../features/index.js';
import { createStreamingPatcher } from '../../features/patches.js';
import { createStreamingResampler } from '../../features/resample.js';
import { padWaveformForYamnet, yamnetPaddedLength } from './pad.js';
import type { YamnetTagger } from './tagger.js';

export interface ScoredLabel {
  readonly label: string;
  readonly id: string;
  readonly index: number;
  readonly score: number;
}

export interface TaggedAudio {
  /** Start time (seconds) of each patch, one per patch hop. */
  readonly startSeconds: readonly number[];
  /** [count, labels] scores. */
  readonly scores: Float32Array;
  readonly count: number;
  readonly labels: readonly LabelInfo[];
  /** [count, 1024] embeddings (history stores them for similarity search); absent where a path does not keep them. */
  readonly embeddings?: Float32Array;
}

/** The k best labels of one score row, best first (ties keep label order). */
export function topLabels(scores: Float32Array, labels: readonly LabelInfo[], k: number): ScoredLabel[] {
  return topK(scores, k).map((i) => ({ label: labels[i]?.name ?? String(i), id: labels[i]?.id ?? '', index: i, score: scores[i]! }));
}

/**
 * Whole-waveform YAMNet tagging (the `earshot tag` path): resample to the
 * frontend rate, pad as yamnet.py does (see pad.ts), log-mel patches every
 * patchHopSeconds, score them in engine batches. `frontend` is the effective
 * config (config.frontend with the model's overrides merged over it).
 */
export async function tagWaveform(tagger: YamnetTagger, samples: Float32Array, sampleRateHz: number, frontend: FrontendConfig): Promise<TaggedAudio & { readonly embeddings: Float32Array }> {
  // Resample first so the padding is counted in frontend-rate samples, exactly as in yamnet.py.
  const atRate = sampleRateHz === frontend.sampleRateHz ? samples : resample(samples, sampleRateHz, frontend.sampleRateHz);
  const padded = padWaveformForYamnet(atRate, frontend.sampleRateHz, frontend);
  const patches = computeLogMelPatches(padded, frontend.sampleRateHz, frontend);
  const { scores, embeddings } = await tagger.scorePatches(patches.data, patches.count);
  const hopSeconds = Math.round(frontend.patchHopSeconds / frontend.stftHopSeconds) * frontend.stftHopSeconds;
  const startSeconds = Array.from({ length: patches.count }, (_, i) => Math.round(i * hopSeconds * 1e6) / 1e6);
  return { startSeconds, scores, count: patches.count, labels: tagger.labels, embeddings };
}

/** Patches scored per engine call on the streamed path: bounds the patch buffer (~25 KB each). */
const STREAM_BATCH_PATCHES = 64;

/**
 * `tagWaveform` over a stream of blocks: resample, YAMNet's end padding, patches and
 * scoring all run incrementally, so memory holds a few blocks plus the score rows
 * (2 KB per 0.48 s hop) whatever the file's length. Same patches as the whole-file
 * path (the streaming resampler and patcher equal batch for any chunking).
 */
export async function tagStream(
  tagger: YamnetTagger,
  blocks: AsyncIterable<Float32Array>,
  sampleRateHz: number,
  frontend: FrontendConfig,
): Promise<TaggedAudio & { readonly durationSeconds: number }> {
  const rs = createStreamingResampler(sampleRateHz, frontend.sampleRateHz);
  const patcher = createStreamingPatcher(frontend);
  const classes = tagger.labels.length;
  const rows: Float32Array[] = [];
  let pending: Patch[] = [];
  let count = 0;
  let emitted = 0;
  const flush = async (all: boolean): Promise<void> => {
    while (pending.length >= STREAM_BATCH_PATCHES || (all && pending.length > 0)) {
      const batch = pending.splice(0, STREAM_BATCH_PATCHES);
      const data = new Float32Array(batch.length * batch[0]!.data.length);
      batch.forEach((p, i) => data.set(p.data, i * p.data.length));
      rows.push((await tagger.scorePatches(data, batch.length)).scores);
      count += batch.length;
    }
  };
  const feed = async (y: Float64Array): Promise<void> => {
    emitted += y.length;
    pending.push(...patcher.pushAtFrontendRate(y));
    await flush(false);
  };
  let inputSamples = 0;
  for await (const block of blocks) {
    inputSamples += block.length;
    await feed(rs.push(block));
  }
  await feed(rs.end());
  // Padding is counted in frontend-rate samples after resampling, exactly as in yamnet.py.
  await feed(new Float64Array(yamnetPaddedLength(emitted, frontend.sampleRateHz, frontend) - emitted));
  pending.push(...patcher.end());
  await flush(true);
  const scores = new Float32Array(count * classes);
  let at = 0;
  for (const r of rows) {
    scores.set(r, at);
    at += r.length;
  }
  rows.length = 0;
  pending = [];
  const hopSeconds = Math.round(frontend.patchHopSeconds / frontend.stftHopSeconds) * frontend.stftHopSeconds;
  const startSeconds = Array.from({ length: count }, (_, i) => Math.round(i * hopSeconds * 1e6) / 1e6);
  return { startSeconds, scores, count, labels: tagger.labels, durationSeconds: inputSamples / sampleRateHz };
}
