import { z } from 'zod';

import { sourceEventsSchema } from './events.js';

const common = {
  id: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only'),
  /** Optional per-source tagger override (model directory). */
  modelDir: z.string().optional(),
  /** Per-source event thresholds over the top-level `events` section. */
  events: sourceEventsSchema.optional(),
  /** Patches whose hop is quieter than this (RMS dBFS) skip the tagger; the source reports `quiet`. Unset = always tag. */
  minLevelDb: z.number().min(-200).max(0).optional(),
};

/** Capture rates a recorder can deliver; outside this a value is a typo, not a device. */
const rateHz = z.number().int().min(1000).max(768_000);

export const sourceSchema = z.discriminatedUnion('kind', [
  z.object({ ...common, kind: z.literal('mic'), device: z.string().default('default'), recorder: z.enum(['arecord', 'sox']).default('arecord'), sampleRateHz: rateHz.default(16000) }).strict(),
  z.object({ ...common, kind: z.literal('file'), path: z.string().min(1), loop: z.boolean().default(false), realtime: z.boolean().default(true) }).strict(),
  z.object({ ...common, kind: z.literal('url'), url: z.string().min(1) }).strict(),
  z.object({ ...common, kind: z.literal('stdin'), format: z.literal('s16le').default('s16le'), sampleRateHz: rateHz.default(16000) }).strict(),
]);

export const sourcesSchema = z.array(sourceSchema).default([]);

export const supervisionSchema = z
  .object({
    restartInitialSeconds: z.number().min(0.01).max(3600).default(0.5),
    restartMaxSeconds: z.number().min(0.01).max(86_400).default(30),
    /** Input whose RMS stays below this (dBFS) is reported as silent, not dead. */
    silenceDbfs: z.number().min(-200).max(0).default(-70),
    silenceSeconds: z.number().min(0.1).max(86_400).default(5),
    stopBudgetSeconds: z.number().min(0.1).max(600).default(5),
    /** A live source whose tagger falls behind sheds the oldest waiting patch beyond this many. */
    maxBacklogPatches: z.number().int().min(1).max(100_000).default(64),
  })
  .strict()
  .refine((s) => s.restartInitialSeconds <= s.restartMaxSeconds, { message: 'restartInitialSeconds must not exceed restartMaxSeconds', path: ['restartInitialSeconds'] });

export type SourceConfig = z.infer<typeof sourceSchema>;
export type SupervisionConfig = z.infer<typeof supervisionSchema>;
