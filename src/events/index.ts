export { EventSegmenter, segmentEvents, type SegmenterOptions } from './segment.js';
export { smoothScores } from './smooth.js';
export { resolveThresholds, type LabelThresholds } from './thresholds.js';
export type { LabelEvent, ScoreFrame } from './contracts.js';
