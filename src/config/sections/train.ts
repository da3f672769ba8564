import { z } from 'zod';

export const modelTypes = ['decision_level_max_pooling', 'decision_level_average_pooling', 'decision_level_single_attention', 'decision_level_multi_attention', 'feature_level_attention'] as const;

export const trainSchema = z
  .object({
    modelType: z.enum(modelTypes).default('decision_level_multi_attention'),
    hiddenUnits: z.number().int().min(1).max(65_536).default(1024),
    dropout: z.number().min(0).max(1).default(0.5),
    batchSize: z.number().int().min(1).max(1_000_000).default(500),
    learningRate: z.number().positive().max(10).default(1e-3),
    iterations: z.number().int().min(1).max(1e9).default(10000),
    balance: z.enum(['balance_in_batch', 'no_balance']).default('balance_in_batch'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(1234),
    evalEveryIterations: z.number().int().min(1).max(1e9).default(500),
    checkpointEveryIterations: z.number().int().min(1).max(1e9).default(500),
    validationFraction: z.number().min(0).max(0.5).default(0.1),
    splitSeed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(20261202),
    mixupAlpha: z.number().min(0).max(10).default(0),
    lrSchedule: z.enum(['constant', 'cosine']).default('constant'),
    emaDecay: z.number().min(0).max(0.99999).default(0),
  })
  .strict();

export type TrainConfig = z.infer<typeof trainSchema>;
