import { z } from 'zod';

/** S3-compatible object storage; empty fields fall back to the standard AWS_* env vars. */
export const storageSchema = z
  .object({
    s3: z
      .object({
        endpoint: z.string().default(''),
        region: z.string().default(''),
        forcePathStyle: z.boolean().default(false),
        accessKeyId: z.string().default(''),
        secretAccessKey: z.string().default(''),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type StorageConfig = z.infer<typeof storageSchema>;
