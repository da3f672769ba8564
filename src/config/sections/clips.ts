import { z } from 'zod';

const labelFilter = z
  .object({
    /** Label names or ontology ids (any case); empty = every label. */
    include: z.array(z.string()).default([]),
    /** Never clipped, even when included. */
    exclude: z.array(z.string()).default([]),
  })
  .strict();

/** Event clips (src/clips): a ring buffer of source audio per source, written around each event. */
export const clipsSchema = z
  .object({
    /** Clips are written only while history is recorded too (the clip index lives there). */
    enabled: z.boolean().default(true),
    /** '' = `<stateDir>/clips`. */
    dir: z.string().default(''),
    /** Which events get a clip: `labels` for every source, `sources.<id>` replaces it for one source. */
    labels: labelFilter.prefault({}),
    sources: z.record(z.string(), labelFilter).default({}),
    preRollSeconds: z.number().nonnegative().max(60).default(5),
    postRollSeconds: z.number().nonnegative().max(60).default(2),
    /** A longer event is split into clips of at most this length. */
    maxSeconds: z.number().positive().max(3600).default(60),
    /** Audio kept beyond the pre-roll, for the detection delay (tagger latency and backlog). */
    ringMarginSeconds: z.number().nonnegative().max(300).default(10),
    codec: z.enum(['flac', 'opus']).default('flac'),
    /** Clips being encoded at once (all sources); an event beyond it gets no clip (earshot_clips_dropped_total). */
    maxConcurrent: z.number().int().positive().default(8),
    /** Retention (the sweeper never deletes a clip being written): clips older than this go; 0 = no age limit. */
    maxAgeDays: z.number().nonnegative().default(30),
    /** Above this many bytes of clips the oldest go; 0 = no limit. */
    maxBytes: z
      .number()
      .int()
      .nonnegative()
      .default(2 * 1024 ** 3),
    /** Above this share of the clips filesystem's size the oldest go; 0 = no limit. */
    maxDiskPercent: z.number().nonnegative().max(100).default(10),
    /** The newest this many clips of each label are kept whatever the age and size limits say. */
    minPerLabel: z.number().int().nonnegative().default(3),
    /** '' = clips stay in `dir`; `s3://bucket/prefix` (storage.s3 settings) = uploaded there, `dir` is the local spool. */
    storageUrl: z.string().default(''),
    /** Spooled clips waiting for upload; at this size no new clip is written (earshot_clips_dropped_total{reason="spool_full"}). */
    spoolMaxBytes: z
      .number()
      .int()
      .positive()
      .default(512 * 1024 ** 2),
    uploadRetryInitialSeconds: z.number().positive().default(1),
    uploadRetryMaxSeconds: z.number().positive().default(60),
    /** How often the sweeper runs (it also runs when a finished clip takes the total over the quota). */
    retentionIntervalSeconds: z.number().positive().default(300),
  })
  .strict();

export type ClipsConfig = z.infer<typeof clipsSchema>;
export type ClipLabelFilter = z.infer<typeof labelFilter>;
