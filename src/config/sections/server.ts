import { z } from 'zod';

export const serverSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8765),
    /** Empty = no auth. Clients send `Authorization: Bearer <token>` or `?token=`. */
    token: z.string().default(''),
    maxMessageBytes: z.number().int().positive().default(64 * 1024),
    clientQueueMessages: z.number().int().positive().default(256),
    stalledDisconnectSeconds: z.number().positive().default(30),
    heartbeatSeconds: z.number().positive().default(15),
    replayEvents: z.number().int().nonnegative().default(1000),
  })
  .strict();

export type ServerConfig = z.infer<typeof serverSchema>;
