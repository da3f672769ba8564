import { z } from 'zod';

/** Fleet (src/fleet, docs/scale.md): edge daemons publish to NATS JetStream, `earshot hub` writes PostgreSQL. */
export const fleetSchema = z
  .object({
    /** nats://host:4222 (comma-separated for a cluster); '' = no fleet. `earshot run --fleet URL`. */
    url: z
      .string()
      .regex(/^((nats|tls):\/\/[^,\s]+)(,(nats|tls):\/\/[^,\s]+)*$|^$/, 'must be nats://host:port[,nats://…] or empty')
      .default(''),
    /** This daemon's site name; '' = the hostname. EARSHOT__FLEET__SITE sets it per box. */
    site: z.string().default(''),
    /** JetStream stream holding every fleet subject (earshot.<site>.<source>.event|segment, earshot.<site>._.heartbeat). */
    stream: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('EARSHOT'),
    /** How long the stream keeps messages the hub has not consumed. */
    streamMaxAgeSeconds: z
      .number()
      .positive()
      .default(7 * 86400),
    /** Publish per-segment summaries and embeddings too (never raw audio). */
    publishSegments: z.boolean().default(true),
    /** Edge: records waiting in memory before they reach the persistent outbox; beyond it the oldest segments go (counted). */
    queueMaxRecords: z.number().int().positive().default(20000),
    /** Edge: records kept in the persistent outbox while the hub is unreachable; beyond it new segments are dropped (counted), events are kept. */
    outboxMaxRecords: z.number().int().positive().default(1_000_000),
    /** Edge: messages published at once (each waits for its JetStream ack). */
    publishBatch: z.number().int().min(1).max(10000).default(256),
    /** Edge: queued records move to the outbox and are published within this time. */
    flushSeconds: z.number().positive().max(60).default(0.2),
    /** Edge: a failed publish round is retried after this delay. */
    retrySeconds: z.number().positive().default(1),
    heartbeatSeconds: z.number().positive().default(5),
    /** Hub: a site whose heartbeats stopped this long is `site down`. */
    siteDownSeconds: z.number().positive().default(30),
    /** Hub: durable consumer name (several hubs with the same name share the work). */
    consumer: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('earshot-hub'),
    /** Hub and workers: an unacknowledged message is redelivered after this time. */
    ackWaitSeconds: z.number().positive().default(30),
  })
  .strict();

export type FleetConfig = z.infer<typeof fleetSchema>;
