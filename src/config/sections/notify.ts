import { z } from 'zod';

const hhmm = /^([01]\d|2[0-3]):[0-5]\d$/;

/** One notification rule; the first rule whose sources and labels match an event decides. */
export const notifyRuleSchema = z
  .object({
    /** Source ids; empty = any. */
    sources: z.array(z.string().min(1)).default([]),
    /** Label names or ids (names case-insensitive); empty = any. */
    labels: z.array(z.string().min(1)).default([]),
    /** Matching events are never sent. */
    exclude: z.boolean().default(false),
    /** Events whose onset score is below it are not sent. */
    minScore: z.number().min(0).max(1).default(0),
    /** After a sent event, the same source and label stay quiet this long. */
    cooldownSeconds: z.number().nonnegative().default(0),
    /** Local times "HH:MM-HH:MM" (may wrap midnight) when matching events are not sent; '' = none. */
    quietHours: z
      .string()
      .regex(new RegExp(`^$|^${hhmm.source.slice(1, -1)}-${hhmm.source.slice(1, -1)}$`), 'HH:MM-HH:MM')
      .default(''),
  })
  .strict();

/** Which events go to the MQTT event topic and webhooks (ON/OFF states always follow every event). */
export const notifySchema = z
  .object({
    rules: z.array(notifyRuleSchema).default([]),
  })
  .strict();

export type NotifyRule = z.infer<typeof notifyRuleSchema>;
export type NotifyConfig = z.infer<typeof notifySchema>;
