import type { AudioStream } from '../../audio/stream.js';
import type { LabelInfo } from '../../classify/contracts.js';
import type { LabelEvent } from '../../events/contracts.js';

/**
 * `earshot tag`'s pieces: inputs (files, directories, `-`) become AudioStreams, one
 * FileTagger (loaded once per run) turns each into a TagResult, and a TagWriter prints
 * it as text, JSON lines or CSV. A tagger owns its model until dispose(); a result owns
 * its score arrays.
 */
export type TagMode = 'hops' | 'clip' | 'summary';

export interface TagHop {
  /** The audio scored: [start, end] seconds, end clipped to the input's end. */
  readonly start: number;
  readonly end: number;
  readonly scores: Float32Array;
}

export interface TagResult {
  readonly labels: readonly LabelInfo[];
  readonly durationSeconds: number;
  /** Per-hop scores (mode 'hops'). */
  readonly hops: readonly TagHop[];
  /** Detected events (mode 'hops', unless --no-events). */
  readonly events: readonly LabelEvent[];
  /** Whole-input scores (modes 'clip' and 'summary'). */
  readonly clip?: Float32Array;
  /** One line for stderr: what ran, on what. */
  readonly info: string;
}

export interface FileTagger {
  tag(audio: AudioStream, mode: TagMode, withEvents: boolean): Promise<TagResult>;
  dispose(): Promise<void>;
}
