import { z } from 'zod';

const thresholds = {
  onThreshold: z.number().min(0).max(1),
  offThreshold: z.number().min(0).max(1),
  minDurationSeconds: z.number().min(0).max(3600),
  mergeGapSeconds: z.number().min(0).max(3600),
};

export const eventsSchema = z
  .object({
    onThreshold: thresholds.onThreshold.default(0.5),
    offThreshold: thresholds.offThreshold.default(0.3),
    minDurationSeconds: thresholds.minDurationSeconds.default(0.96),
    mergeGapSeconds: thresholds.mergeGapSeconds.default(1.0),
    /** Exponential smoothing time constant of scores; 0 = none. */
    smoothingSeconds: z.number().min(0).max(3600).default(0),
    /** Per-label overrides keyed by label name or ontology id. */
    labels: z.record(z.string(), z.object(thresholds).partial().strict()).default({}),
    /** Label filter: only these labels (names or ontology ids) start events; empty = all. */
    include: z.array(z.string()).default([]),
    /** Label filter: these labels never start events, even when included. */
    exclude: z.array(z.string()).default([]),
    topK: z.number().int().min(1).max(1000).default(5),
    /** Labels without an entry in `labels` use the model's calibrated threshold when it ships one. */
    modelThresholds: z.boolean().default(true),
  })
  .strict()
  .refine((e) => e.offThreshold <= e.onThreshold, { message: 'offThreshold must not exceed onThreshold', path: ['offThreshold'] });

export type EventsConfig = z.infer<typeof eventsSchema>;

/** A source's own event settings, laid over the top-level `events` (labels merged by key). */
export const sourceEventsSchema = z
  .object({
    onThreshold: thresholds.onThreshold,
    offThreshold: thresholds.offThreshold,
    minDurationSeconds: thresholds.minDurationSeconds,
    mergeGapSeconds: thresholds.mergeGapSeconds,
    smoothingSeconds: z.number().min(0).max(3600),
    labels: z.record(z.string(), z.object(thresholds).partial().strict()),
    include: z.array(z.string()),
    exclude: z.array(z.string()),
    topK: z.number().int().min(1).max(1000),
    modelThresholds: z.boolean(),
  })
  .partial()
  .strict();

export type SourceEventsConfig = z.infer<typeof sourceEventsSchema>;
