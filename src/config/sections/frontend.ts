import { z } from 'zod';

/** Log-mel frontend. Defaults are VGGish's; YAMNet overrides logOffset and patchHopSeconds. */
export const frontendSchema = z
  .object({
    sampleRateHz: z.number().int().positive().default(16000),
    stftWindowSeconds: z.number().positive().default(0.025),
    stftHopSeconds: z.number().positive().default(0.01),
    melBands: z.number().int().positive().default(64),
    melMinHz: z.number().nonnegative().default(125),
    melMaxHz: z.number().positive().default(7500),
    logOffset: z.number().positive().default(0.01),
    patchFrames: z.number().int().positive().default(96),
    /** Streaming hop between patches; 0.96 s = non-overlapping as in AudioSet. */
    patchHopSeconds: z.number().positive().default(0.96),
  })
  .strict()
  .refine((f) => f.melMaxHz > f.melMinHz, { message: 'melMaxHz must exceed melMinHz', path: ['melMaxHz'] })
  .refine((f) => f.melMaxHz <= f.sampleRateHz / 2, { message: 'melMaxHz must not exceed Nyquist', path: ['melMaxHz'] });

export type FrontendConfig = z.infer<typeof frontendSchema>;
