import { z } from 'zod';

import { clipsSchema } from './sections/clips.js';
import { engineSchema } from './sections/engine.js';
import { eventsSchema } from './sections/events.js';
import { fleetSchema } from './sections/fleet.js';
import { frontendSchema } from './sections/frontend.js';
import { historySchema } from './sections/history.js';
import { learnSchema } from './sections/learn.js';
import { modelsSchema } from './sections/models.js';
import { mqttSchema } from './sections/mqtt.js';
import { notifySchema } from './sections/notify.js';
import { privacySchema } from './sections/privacy.js';
import { serverSchema } from './sections/server.js';
import { sourcesSchema, supervisionSchema } from './sections/sources.js';
import { storageSchema } from './sections/storage.js';
import { trainSchema } from './sections/train.js';
import { webhooksSchema } from './sections/webhooks.js';

/** The one configuration object. Defaults and validation live here and in ./sections only. */
export const configSchema = z
  .object({
    logLevel: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    /** Daemon state (history database, later clips); '' = $STATE_DIRECTORY under systemd, else ~/.local/state/earshot. */
    stateDir: z.string().default(''),
    frontend: frontendSchema.prefault({}),
    engine: engineSchema.prefault({}),
    models: modelsSchema.prefault({}),
    sources: sourcesSchema,
    supervision: supervisionSchema.prefault({}),
    events: eventsSchema.prefault({}),
    server: serverSchema.prefault({}),
    storage: storageSchema.prefault({}),
    train: trainSchema.prefault({}),
    learn: learnSchema.prefault({}),
    history: historySchema.prefault({}),
    clips: clipsSchema.prefault({}),
    privacy: privacySchema.prefault({}),
    mqtt: mqttSchema.prefault({}),
    /** POST every event to these receivers (signed, retried, persisted in the history database's outbox). */
    webhooks: webhooksSchema,
    notify: notifySchema.prefault({}),
    fleet: fleetSchema.prefault({}),
  })
  .strict();

export type Config = Readonly<z.infer<typeof configSchema>>;
export type ConfigInput = z.input<typeof configSchema>;
