import { z } from 'zod';

/** Detection history (src/history): where it lives, how long it is kept, how writes are batched. */
export const historySchema = z
  .object({
    /** The daemon records events and per-segment summaries; `earshot run --no-history` turns it off. */
    enabled: z.boolean().default(true),
    /** SQLite file; '' = `<stateDir>/history.sqlite`. */
    path: z.string().default(''),
    /** postgres://user:pass@host:port/db: a shared PostgreSQL history instead of the SQLite file ('' = SQLite). */
    url: z
      .string()
      .regex(/^(postgres(ql)?:\/\/.*)?$/, 'must be a postgres:// URL or empty')
      .default(''),
    /** PostgreSQL connections per process. */
    poolMax: z.number().int().min(1).max(100).default(4),
    /** Frames are pooled into segments of about this length (max score, mean embedding). */
    segmentSeconds: z.number().positive().default(0.96),
    /** Labels stored per segment for keyword search. */
    topK: z.number().int().min(1).max(50).default(5),
    /** Store each segment's embedding (int8 + scale) for `search --like`. */
    storeEmbeddings: z.boolean().default(true),
    /** Live recordings older than this are deleted (0 = no age limit). */
    maxAgeDays: z.number().nonnegative().default(30),
    /** Above this file size the oldest live recordings are deleted and the space reclaimed (0 = no limit). */
    maxBytes: z
      .number()
      .int()
      .nonnegative()
      .default(2 * 1024 ** 3),
    /** How often retention runs. */
    retentionIntervalSeconds: z.number().positive().default(300),
    /** Records waiting for the writer; beyond it the oldest are dropped (counted in earshot_history_dropped_total). */
    queueMaxRecords: z.number().int().positive().default(20000),
    /** Records per transaction. */
    batchMaxRecords: z.number().int().positive().default(2000),
    /** A waiting record is written within this time. */
    flushSeconds: z.number().positive().max(60).default(0.5),
    /** After a failed write, the batch is retried after this delay. */
    retrySeconds: z.number().positive().default(2),
  })
  .strict();

export type HistoryConfig = z.infer<typeof historySchema>;
