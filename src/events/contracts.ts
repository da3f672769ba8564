/**
 * Boundary: tagger scores -> event segmentation -> subscribers.
 *
 * ScoreFrame.scores is owned by the frame and never mutated after emission
 * (several subscribers read it). Times are stream seconds (source clock), not
 * wall clock. Event ids are stable: `${sourceId}:${label index}:${sequence}`.
 */
import type { LabelInfo } from '../classify/contracts.js';

export interface ScoreFrame {
  readonly sourceId: string;
  /** Stream time of the end of the audio the scores describe (the window's newest sample, clipped to the stream's end), seconds. */
  readonly tSeconds: number;
  /** Stream time of the window's first sample; absent = tSeconds - hop (frames built by hand in tests). */
  readonly startSeconds?: number;
  readonly scores: Float32Array;
  readonly labels: readonly LabelInfo[];
  /** The patch's embedding when the tagger provides one (history stores it). */
  readonly embedding?: Float32Array;
}

export interface LabelEvent {
  readonly type: 'event.start' | 'event.end';
  readonly id: string;
  readonly sourceId: string;
  readonly label: string;
  readonly labelId: string;
  /** start: onset time; end: offset time (stream seconds). */
  readonly tSeconds: number;
  /** Onset (see EventSegmenter for how it is attributed). */
  readonly startSeconds: number;
  /** End of the audio known to be in the event: on start, so far; on end, the offset. Never past the stream's end. */
  readonly endSeconds: number;
  readonly score: number;
  /** URL path of the event's clip (src/clips) when one is written; set by the daemon, not the segmenter. */
  readonly clip?: string;
}
