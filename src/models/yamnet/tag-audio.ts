import type { FrontendConfig } from '../../config/sections/frontend.js';
import type { LabelInfo } from '../../classify/contracts.js';
import { computeLogMelPatches, resample } from '../../features/index.js';
import { padWaveformForYamnet } from './pad.js';
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
  /** [count, 1024] embeddings (history stores them for similarity search). */
  readonly embeddings: Float32Array;
}

/** The k best labels of one score row, best first (ties keep label order). */
export function topLabels(scores: Float32Array, labels: readonly LabelInfo[], k: number): ScoredLabel[] {
  const idx = Array.from(scores.keys()).sort((a, b) => scores[b]! - scores[a]! || a - b);
  return idx.slice(0, Math.max(0, k)).map((i) => ({ label: labels[i]?.name ?? String(i), id: labels[i]?.id ?? '', index: i, score: scores[i]! }));
}

/**
 * Whole-waveform YAMNet tagging (the `earshot tag` path): resample to the
 * frontend rate, pad as yamnet.py does (see pad.ts), log-mel patches every
 * patchHopSeconds, score them in engine batches. `frontend` is the effective
 * config (config.frontend with the model's overrides merged over it).
 */
export async function tagWaveform(tagger: YamnetTagger, samples: Float32Array, sampleRateHz: number, frontend: FrontendConfig): Promise<TaggedAudio> {
  // Resample first so the padding is counted in frontend-rate samples, exactly as in yamnet.py.
  const atRate = sampleRateHz === frontend.sampleRateHz ? samples : resample(samples, sampleRateHz, frontend.sampleRateHz);
  const padded = padWaveformForYamnet(atRate, frontend.sampleRateHz, frontend);
  const patches = computeLogMelPatches(padded, frontend.sampleRateHz, frontend);
  const { scores, embeddings } = await tagger.scorePatches(patches.data, patches.count);
  const hopSeconds = Math.round(frontend.patchHopSeconds / frontend.stftHopSeconds) * frontend.stftHopSeconds;
  const startSeconds = Array.from({ length: patches.count }, (_, i) => Math.round(i * hopSeconds * 1e6) / 1e6);
  return { startSeconds, scores, count: patches.count, labels: tagger.labels, embeddings };
}
