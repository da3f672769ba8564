import type { MqttConfig } from '../config/sections/mqtt.js';
import { slug } from './slug.js';

/** One watched label of one source: its ON/OFF topic and entity. */
export interface WatchedLabel {
  readonly sourceId: string;
  readonly label: string;
  readonly slug: string;
}

export interface DiscoveryMessage {
  readonly topic: string;
  readonly payload: string;
}

export interface DiscoveryContext {
  readonly cfg: MqttConfig;
  /** Node id in discovery topics and unique ids: the slug of the client id. */
  readonly nodeId: string;
  readonly version: string;
}

export const statusTopic = (cfg: MqttConfig): string => `${cfg.topicPrefix}/status`;
export const sourceTopic = (cfg: MqttConfig, sourceId: string, leaf: string): string => `${cfg.topicPrefix}/${slug(sourceId)}/${leaf}`;

/** Discovery config topics this daemon owns (for clearing ones no longer configured). */
export const discoveryFilter = (ctx: DiscoveryContext): string => `${ctx.cfg.discoveryPrefix}/+/${ctx.nodeId}/+/config`;

function common(ctx: DiscoveryContext): Record<string, unknown> {
  return {
    availability: [{ topic: statusTopic(ctx.cfg), payload_available: 'online', payload_not_available: 'offline' }],
    device: { identifiers: [`earshot_${ctx.nodeId}`], name: ctx.cfg.deviceName, manufacturer: 'earshot', model: 'AudioSet tagger', sw_version: ctx.version },
  };
}

/**
 * Home Assistant MQTT discovery: a `binary_sensor` (device_class sound) per source and
 * watched label, a `sensor` per source for the top label and one for the level (dBFS,
 * unless mqtt.levelSeconds is 0); all on one device per daemon,
 * unavailable while `<prefix>/status` is `offline` (the last will).
 */
export function discoveryMessages(ctx: DiscoveryContext, sources: readonly string[], watched: readonly WatchedLabel[]): DiscoveryMessage[] {
  const { cfg, nodeId } = ctx;
  const out: DiscoveryMessage[] = [];
  for (const w of watched) {
    const object = `${slug(w.sourceId)}_${w.slug}`;
    out.push({
      topic: `${cfg.discoveryPrefix}/binary_sensor/${nodeId}/${object}/config`,
      payload: JSON.stringify({
        name: `${w.sourceId} ${w.label}`,
        unique_id: `${nodeId}_${object}`,
        object_id: `earshot_${object}`,
        state_topic: sourceTopic(cfg, w.sourceId, w.slug),
        payload_on: 'ON',
        payload_off: 'OFF',
        device_class: 'sound',
        ...common(ctx),
      }),
    });
  }
  for (const s of sources) {
    const object = `${slug(s)}_top`;
    out.push({
      topic: `${cfg.discoveryPrefix}/sensor/${nodeId}/${object}/config`,
      payload: JSON.stringify({
        name: `${s} top sound`,
        unique_id: `${nodeId}_${object}`,
        object_id: `earshot_${object}`,
        state_topic: sourceTopic(cfg, s, 'top'),
        value_template: '{{ value_json.label }}',
        json_attributes_topic: sourceTopic(cfg, s, 'top'),
        icon: 'mdi:ear-hearing',
        ...common(ctx),
      }),
    });
    if (cfg.levelSeconds > 0) {
      const level = `${slug(s)}_level`;
      out.push({
        topic: `${cfg.discoveryPrefix}/sensor/${nodeId}/${level}/config`,
        payload: JSON.stringify({
          name: `${s} sound level`,
          unique_id: `${nodeId}_${level}`,
          object_id: `earshot_${level}`,
          state_topic: sourceTopic(cfg, s, 'level'),
          unit_of_measurement: 'dBFS',
          state_class: 'measurement',
          icon: 'mdi:volume-high',
          ...common(ctx),
        }),
      });
    }
  }
  return out;
}
