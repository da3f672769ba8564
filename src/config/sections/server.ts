import { z } from 'zod';

/** A token is a string; YAML `token: 123` or an all-digit env value arrives as a number. */
const tokenSchema = z.union([z.string(), z.number().transform((n) => String(n))]).default('');

/**
 * Timer periods: Node's timers hold 32-bit milliseconds (a longer one fires at once, so a
 * huge heartbeat would disconnect every client), and a sub-second one would be a busy loop.
 */
const seconds = (min: number) => z.number().min(min).max(86_400, 'at most 86400 (one day): Node timers overflow past 24.8 days');

export const serverSchema = z
  .object({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8765),
    /** Empty = no auth. Clients send `Authorization: Bearer <token>` or `?token=`. */
    token: tokenSchema,
    /** Token for /metrics (a scraper's); empty = the main token, when that is set. */
    metricsToken: tokenSchema,
    /** What /healthz tells a request without the token (when one is set): status only, everything, or 401. */
    publicHealth: z.enum(['status', 'full', 'none']).default('status'),
    maxMessageBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(64 * 1024),
    clientQueueMessages: z.number().int().min(1).max(100_000).default(256),
    stalledDisconnectSeconds: seconds(1).default(30),
    heartbeatSeconds: seconds(1).default(15),
    replayEvents: z.number().int().min(0).max(1_000_000).default(1000),
    /**
     * Bytes all clients together may hold unsent (queues + socket buffers). Past it the
     * clients holding the most are cut off first. Per-client queues alone (256 messages
     * of up to ~60 KB) would let a hundred non-reading clients hold over 1 GB.
     */
    queueBudgetBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .max(2 ** 34)
      .default(64 * 1024 * 1024),
    /** WebSocket connections at once; the next upgrade gets 503. */
    maxClients: z.number().int().min(1).max(100_000).default(1000),
    /**
     * Browser origins (e.g. `https://dash.example:8443`, or `*`) allowed to open the WebSocket
     * besides the daemon's own; others get 403. Requests without Origin (non-browser) pass.
     */
    allowedOrigins: z.array(z.string().min(1)).default([]),
  })
  .strict();

export type ServerConfig = z.infer<typeof serverSchema>;
