export type { LabelEvent, ScoreFrame } from './contracts.js';
export { EventSegmenter, type SegmenterOptions, segmentEvents } from './segment.js';
export { ScoreSmoother, smoothScores } from './smooth.js';
export { EventStage, framesToEvents } from './stage.js';
export { type LabelThresholds, resolveThresholds } from './thresholds.js';
