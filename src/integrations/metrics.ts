import { Counter, Gauge, type Registry } from 'prom-client';

/** MQTT metrics, registered in the daemon's registry (served on /metrics). */
export interface MqttMetrics {
  /** Event messages by result: queued (accepted), sent (acknowledged), failed (publish error), dropped (queue full). */
  readonly events: Counter<'result'>;
  readonly queued: Gauge<never>;
  readonly connected: Gauge<never>;
  readonly connects: Counter<never>;
}

export function createMqttMetrics(registry: Registry): MqttMetrics {
  const registers = [registry];
  return {
    events: new Counter({ name: 'earshot_mqtt_events_total', help: 'MQTT event messages by result (queued, sent, failed, dropped)', labelNames: ['result'], registers }),
    queued: new Gauge({ name: 'earshot_mqtt_queued', help: 'MQTT event messages not yet acknowledged by the broker', registers }),
    connected: new Gauge({ name: 'earshot_mqtt_connected', help: '1 while connected to the MQTT broker', registers }),
    connects: new Counter({ name: 'earshot_mqtt_connects_total', help: 'Successful MQTT (re)connections', registers }),
  };
}
