import { z } from 'zod';

export const modelTypes = [
  'decision_level_max_pooling',
  'decision_level_average_pooling',
  'decision_level_single_attention',
  'decision_level_multi_attention',
  'feature_level_attention',
] as const;

export const trainSchema = z
  .object({
    modelType: z.enum(modelTypes).default('decision_level_multi_attention'),
    hiddenUnits: z.number().int().positive().default(1024),
    dropout: z.number().min(0).max(1).default(0.5),
    batchSize: z.number().int().positive().default(500),
    learningRate: z.number().positive().default(1e-3),
    iterations: z.number().int().positive().default(10000),
    balance: z.enum(['balance_in_batch', 'no_balance']).default('balance_in_batch'),
    seed: z.number().int().nonnegative().default(1234),
    evalEveryIterations: z.number().int().positive().default(500),
    checkpointEveryIterations: z.number().int().positive().default(500),
  })
  .strict();

export type TrainConfig = z.infer<typeof trainSchema>;
