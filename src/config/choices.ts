import { z } from 'zod';

import { engineSchema } from './sections/engine.js';
import { modelsSchema } from './sections/models.js';
import { trainSchema } from './sections/train.js';

/**
 * The allowed values of an enum config key, read from its zod schema (through
 * .default()/.optional() wrappers), so help texts and flags never keep their own list.
 */
export function choicesOf(field: z.ZodType): readonly string[] {
  let t: unknown = field;
  for (let i = 0; i < 8; i++) {
    if (t instanceof z.ZodEnum) return t.options.map(String);
    if (t instanceof z.ZodDefault || t instanceof z.ZodOptional || t instanceof z.ZodNullable) t = t.unwrap();
    else break;
  }
  throw new Error('choicesOf: not an enum schema');
}

export const ENGINE_KINDS = choicesOf(engineSchema.shape.kind);
export const TFJS_BACKENDS = choicesOf(engineSchema.shape.tfjsBackend);
export const TAGGERS = choicesOf(modelsSchema.shape.tagger);
export const TRAIN_MODEL_TYPES = choicesOf(trainSchema.shape.modelType);
export const TRAIN_BALANCE = choicesOf(trainSchema.shape.balance);
