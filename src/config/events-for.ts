import { EarshotError } from '../errors.js';
import type { Config } from './schema.js';
import { type EventsConfig, eventsSchema } from './sections/events.js';
import type { SourceConfig } from './sections/sources.js';

/**
 * A source's event settings: config.events with the source's own `events` block over it
 * (per-label overrides merged), validated like the top-level section.
 */
export function eventsFor(src: SourceConfig, config: Config): EventsConfig {
  const own = src.events;
  if (!own) return config.events;
  const merged = { ...config.events, ...own, labels: { ...config.events.labels, ...(own.labels ?? {}) } };
  const r = eventsSchema.safeParse(merged);
  if (!r.success) throw new EarshotError('CONFIG_INVALID', `sources: "${src.id}" events: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, { id: src.id });
  return r.data;
}
