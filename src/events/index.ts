export { EventSegmenter, segmentEvents, type SegmenterOptions } from './segment.js';
export { ScoreSmoother, smoothScores } from './smooth.js';
export { EventStage, framesToEvents } from './stage.js';
export { resolveThresholds, type LabelThresholds } from './thresholds.js';
export type { LabelEvent, ScoreFrame } from './contracts.js';
