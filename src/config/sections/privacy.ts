import { z } from 'zod';

/** What the daemon keeps of human speech (src/clips/privacy.ts). */
export const privacySchema = z
  .object({
    /** No clip overlapping speech is kept, and segments with speech keep no embedding in history. */
    dropSpeech: z.boolean().default(false),
    /** A frame counts as speech when any label of the ontology's Speech branch scores at least this. */
    speechMinScore: z.number().min(0).max(1).default(0.2),
  })
  .strict();

export type PrivacyConfig = z.infer<typeof privacySchema>;
