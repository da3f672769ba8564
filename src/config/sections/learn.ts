import { z } from 'zod';

export const learnSchema = z
  .object({
    /** Feedback on AudioSet-label events (POST /api/feedback) goes here, one folder per class; '' = <stateDir>/examples. */
    examplesDir: z.string().default(''),
  })
  .strict();

export type LearnConfig = z.infer<typeof learnSchema>;
