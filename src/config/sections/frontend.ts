import { z } from 'zod';

/** Log-mel frontend. Defaults are VGGish's; YAMNet overrides logOffset and patchHopSeconds. */
export const frontendSchema = z
  .object({
    sampleRateHz: z.number().int().min(1000).max(768_000).default(16000),
    stftWindowSeconds: z.number().min(0.001).max(1).default(0.025),
    stftHopSeconds: z.number().min(0.001).max(1).default(0.01),
    melBands: z.number().int().min(1).max(512).default(64),
    melMinHz: z.number().min(0).max(384_000).default(125),
    melMaxHz: z.number().min(1).max(384_000).default(7500),
    logOffset: z.number().min(1e-12).max(1).default(0.01),
    patchFrames: z.number().int().min(1).max(10_000).default(96),
    /** Streaming hop between patches; 0.96 s = non-overlapping as in AudioSet. */
    patchHopSeconds: z.number().min(0.01).max(60).default(0.96),
  })
  .strict()
  .refine((f) => f.melMaxHz > f.melMinHz, { message: 'melMaxHz must exceed melMinHz', path: ['melMaxHz'] })
  .refine((f) => f.melMaxHz <= f.sampleRateHz / 2, { message: 'melMaxHz must not exceed Nyquist', path: ['melMaxHz'] });

export type FrontendConfig = z.infer<typeof frontendSchema>;
