import type { Registry } from 'prom-client';

import type { LabelInfo } from '../classify/contracts.js';
import { didYouMean, findLabels } from '../classify/label-match.js';
import { DEFAULT_WATCHED_LABELS, type MqttConfig } from '../config/sections/mqtt.js';
import type { NotifyConfig } from '../config/sections/notify.js';
import type { WebhookConfig } from '../config/sections/webhooks.js';
import { EarshotError } from '../errors.js';
import type { LabelEvent } from '../events/contracts.js';
import type { OutboxStore } from '../history/contracts.js';
import type { SourceOutput } from '../pipeline/contracts.js';
import type { EventMessage, Integrations } from './contracts.js';
import type { WatchedLabel } from './discovery.js';
import { createMqttMetrics } from './metrics.js';
import { MqttPublisher } from './mqtt.js';
import { NotifyRules } from './rules.js';
import { slug } from './slug.js';
import { createWebhookMetrics, WebhookDelivery } from './webhooks.js';

export interface IntegrationsDeps {
  readonly sources: readonly { readonly id: string; readonly labels: readonly LabelInfo[] }[];
  readonly version: string;
  readonly registry: Registry;
  readonly log: (line: string) => void;
  readonly nowMs: () => number;
  /** Distinguishes this run's event ids from earlier runs' (ids restart with every run). */
  readonly runId: string;
  /** The history database's outbox (MQTT event messages and webhooks persist their queues there); absent = memory only. */
  readonly outbox?: OutboxStore;
}

/**
 * A source's watched labels resolved against its tagger's labels. The household default
 * set is skipped where a model lacks a name; a label the user named that the model does
 * not know is CONFIG_INVALID (a silent miss would hide a typo).
 */
export function watchedLabels(cfg: MqttConfig, sourceId: string, labels: readonly LabelInfo[]): WatchedLabel[] {
  const own = cfg.sourceLabels[sourceId];
  const base = own ?? cfg.watchedLabels;
  const isDefault = own === undefined && base.length === DEFAULT_WATCHED_LABELS.length && base.every((l, i) => l === DEFAULT_WATCHED_LABELS[i]);
  const out = new Map<string, WatchedLabel>();
  for (const [term, optional] of [...base.map((t) => [t, isDefault] as const), ...cfg.customLabels.map((t) => [t, false] as const)]) {
    const idx = findLabels(term, labels);
    if (idx.length === 0) {
      if (optional) continue;
      throw new EarshotError(
        'CONFIG_INVALID',
        `mqtt: source "${sourceId}" watches "${term}", which its model has no label for${didYouMean(
          term,
          labels.map((l) => l.name),
        )}`,
        { label: term },
      );
    }
    const name = labels[idx[0]!]!.name;
    out.set(name, { sourceId, label: name, slug: slug(name) });
  }
  return [...out.values()];
}

function message(e: LabelEvent, runId: string, nowMs: number): EventMessage {
  const start = e.type === 'event.start';
  return {
    id: `${runId}/${e.id}`,
    type: start ? 'start' : 'end',
    source: e.sourceId,
    label: e.label,
    labelId: e.labelId,
    score: Math.round(e.score * 1e4) / 1e4,
    startSeconds: e.startSeconds,
    endSeconds: start ? null : e.tSeconds,
    time: new Date(nowMs).toISOString(),
    ...(e.clip ? { clip: e.clip } : {}),
  };
}

/** MQTT (when mqtt.url is set) and webhooks over the daemon's outputs; undefined when nothing is configured. */
export function startIntegrations(cfg: { readonly mqtt: MqttConfig; readonly webhooks: readonly WebhookConfig[]; readonly notify: NotifyConfig }, deps: IntegrationsDeps): Integrations | undefined {
  if (!cfg.mqtt.url && cfg.webhooks.length === 0) return undefined;
  const watched = new Map(deps.sources.map((s) => [s.id, cfg.mqtt.url ? watchedLabels(cfg.mqtt, s.id, s.labels) : []]));
  const mqtt = cfg.mqtt.url
    ? new MqttPublisher({
        cfg: cfg.mqtt,
        sources: deps.sources.map((s) => s.id),
        watched: [...watched.values()].flat(),
        version: deps.version,
        metrics: createMqttMetrics(deps.registry),
        log: deps.log,
        ...(deps.outbox ? { outbox: deps.outbox } : {}),
      })
    : undefined;
  const hookMetrics = cfg.webhooks.length ? createWebhookMetrics(deps.registry) : undefined;
  const hooks = cfg.webhooks.map((w) => new WebhookDelivery({ cfg: w, metrics: hookMetrics!, log: deps.log, ...(deps.outbox ? { outbox: deps.outbox } : {}) }));
  const rules = new NotifyRules(cfg.notify.rules);
  const levels = new Map<string, { sumSq: number; n: number }>();
  const slugs = new Map([...watched].map(([id, ws]) => [id, new Map(ws.map((w) => [w.label, w.slug]))]));
  return {
    tap(sourceId, o: SourceOutput) {
      if (o.kind === 'event') {
        const e = o.event;
        const s = slugs.get(sourceId)?.get(e.label);
        if (s !== undefined) mqtt?.setState(sourceId, s, e.type === 'event.start');
        const now = deps.nowMs();
        const m = message(e, deps.runId, now);
        if (!rules.allow(m, now)) return;
        mqtt?.event(m);
        for (const h of hooks) if (h.wants(m)) h.add(m);
      } else if (o.kind === 'frame' && mqtt) {
        const f = o.frame;
        mqtt.top(sourceId, deps.nowMs(), () => {
          let best = 0;
          for (let i = 1; i < f.scores.length; i++) if (f.scores[i]! > f.scores[best]!) best = i;
          const l = f.labels[best]!;
          return JSON.stringify({ label: l.name, labelId: l.id, score: Math.round(f.scores[best]! * 1e4) / 1e4, tSeconds: f.tSeconds });
        });
      }
    },
    audio(sourceId, chunk) {
      if (!mqtt || cfg.mqtt.levelSeconds === 0) return;
      const l = levels.get(sourceId) ?? { sumSq: 0, n: 0 };
      levels.set(sourceId, l);
      for (let i = 0; i < chunk.samples.length; i++) l.sumSq += chunk.samples[i]! * chunk.samples[i]!;
      l.n += chunk.samples.length;
      if (l.n < cfg.mqtt.levelSeconds * chunk.sampleRateHz) return;
      // dBFS of the RMS (full-scale sine = -3 dBFS); digital silence is floored at -120.
      const db = l.sumSq > 0 ? Math.max(-120, 10 * Math.log10(l.sumSq / l.n)) : -120;
      l.sumSq = 0;
      l.n = 0;
      mqtt.level(sourceId, (Math.round(db * 10) / 10).toFixed(1));
    },
    health: () => ({
      ...(mqtt ? { mqtt: mqtt.health() } : {}),
      ...(hooks.length ? { webhooks: hooks.map((h, i) => ({ url: cfg.webhooks[i]!.url, queued: h.queued })) } : {}),
    }),
    async stop() {
      await Promise.all([mqtt?.stop(2000), ...hooks.map((h) => h.stop(2000))]);
    },
  };
}
