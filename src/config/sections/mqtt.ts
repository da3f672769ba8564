import { z } from 'zod';

/**
 * A household set of labels worth an automation. Names are AudioSet's (matched
 * case-insensitively against the tagger's labels; ones a model lacks are skipped).
 */
export const DEFAULT_WATCHED_LABELS: readonly string[] = [
  'Speech',
  'Dog',
  'Cat',
  'Baby cry, infant cry',
  'Smoke detector, smoke alarm',
  'Fire alarm',
  'Glass',
  'Shatter',
  'Doorbell',
  'Knock',
  'Alarm',
  'Siren',
  'Water',
];

const tlsSchema = z
  .object({
    /** PEM file paths; '' = none (the system CAs verify an mqtts:// broker). */
    ca: z.string().default(''),
    cert: z.string().default(''),
    key: z.string().default(''),
  })
  .strict();

/** MQTT publisher and Home Assistant discovery (src/integrations). */
export const mqttSchema = z
  .object({
    /** Broker, e.g. mqtt://127.0.0.1:1883 or mqtts://host:8883; '' = MQTT off. */
    url: z.string().default(''),
    username: z.string().default(''),
    password: z.string().default(''),
    tls: tlsSchema.prefault({}),
    /** '' = earshot-<hostname>. */
    clientId: z.string().default(''),
    topicPrefix: z
      .string()
      .min(1)
      .regex(/^[^#+]+$/, 'no MQTT wildcards')
      .default('earshot'),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1),
    /** Publish Home Assistant discovery configs (retained). */
    discovery: z.boolean().default(true),
    discoveryPrefix: z.string().min(1).default('homeassistant'),
    /** Home Assistant device name (one device per daemon). */
    deviceName: z.string().min(1).default('earshot'),
    /** `<prefix>/<source>/top` at most once per this many seconds. */
    topThrottleSeconds: z.number().nonnegative().default(1),
    /** `<prefix>/<source>/level`: the RMS level in dBFS over each this many seconds of audio; 0 = no level topic or sensor. */
    levelSeconds: z.number().nonnegative().default(1),
    /** Labels with an ON/OFF topic and a binary_sensor, for every source. */
    watchedLabels: z.array(z.string().min(1)).default([...DEFAULT_WATCHED_LABELS]),
    /** Added to watchedLabels for every source. */
    customLabels: z.array(z.string().min(1)).default([]),
    /** Per source id: its own watched list instead of watchedLabels (customLabels still added). */
    sourceLabels: z.record(z.string(), z.array(z.string().min(1))).default({}),
    /** Events waiting for the broker; beyond it the oldest are dropped (earshot_mqtt_messages_total{result="dropped"}). */
    queueMaxEvents: z.number().int().positive().default(10000),
    /** Event messages handed to the client library before their acknowledgement. */
    inFlightMax: z.number().int().positive().max(65535).default(64),
    reconnectSeconds: z.number().positive().default(1),
    connectTimeoutSeconds: z.number().positive().default(10),
  })
  .strict();

export type MqttConfig = z.infer<typeof mqttSchema>;
