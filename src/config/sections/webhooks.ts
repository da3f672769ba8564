import { z } from 'zod';

/** One webhook receiver (src/integrations/webhooks.ts). */
export const webhookSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    /** Label names or ids whose events are sent; empty = all. */
    labels: z.array(z.string().min(1)).default([]),
    /** HMAC-SHA256 key for X-Earshot-Signature; '' = unsigned. */
    secret: z.string().default(''),
    timeoutSeconds: z.number().positive().default(10),
    retryInitialSeconds: z.number().positive().default(1),
    retryMaxSeconds: z.number().positive().default(60),
    /** Events waiting for this receiver; beyond it the oldest are dropped (earshot_webhook_events_total{result="dropped"}). */
    queueMaxEvents: z.number().int().positive().default(10000),
  })
  .strict();

export const webhooksSchema = z.array(webhookSchema).default([]);

export type WebhookConfig = z.infer<typeof webhookSchema>;
