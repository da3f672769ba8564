import type { LabelEvent, ScoreFrame } from '../events/contracts.js';
import type { LevelReading, SpectrogramFrames } from '../levels/contracts.js';
import type { SourceStatus } from '../server/protocol.js';

/**
 * What a source's pipeline emits, in stream order. Consumers (server, history, clips,
 * integrations) import this type from here, not the pipeline's code, so they depend on the
 * contract only. Emission is synchronous on the pipeline's subscription: a consumer must not block.
 */
export type SourceOutput =
  | { readonly kind: 'frame'; readonly frame: ScoreFrame }
  | { readonly kind: 'event'; readonly event: LabelEvent }
  | { readonly kind: 'status'; readonly status: SourceStatus & { readonly retryInSeconds?: number } }
  /** One per chunk: stream seconds read so far (for health/metrics). */
  | { readonly kind: 'audio'; readonly streamSeconds: number; readonly chunkSeconds: number }
  /** One per patch hop of audio: meyda levels (dashboard, /metrics, the quiet gate). */
  | { readonly kind: 'levels'; readonly levels: LevelReading }
  /** The log-mel frames each patch adds (the dashboard's spectrogram). */
  | { readonly kind: 'spectrogram'; readonly frames: SpectrogramFrames };
