import { connect, type IClientOptions, type MqttClient } from 'mqtt';

export interface Received {
  readonly topic: string;
  readonly payload: string;
  readonly retain: boolean;
}

/** A real MQTT subscriber (mqtt.js) that records every message and lets tests await one. */
export class TestSubscriber {
  readonly messages: Received[] = [];
  private waiters: { pred: (m: Received) => boolean; resolve: (m: Received) => void; timer: NodeJS.Timeout; reject: (e: Error) => void }[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const m = { topic, payload: payload.toString(), retain: packet.retain };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        clearTimeout(w.timer);
        w.resolve(m);
        return false;
      });
    });
  }

  static async connect(url: string, topics: string[], opts: IClientOptions = {}): Promise<TestSubscriber> {
    const client = connect(url, { reconnectPeriod: 300, ...opts });
    const s = new TestSubscriber(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
    await client.subscribeAsync(topics, { qos: 1 });
    return s;
  }

  /** The first message (already received or future) matching `pred`; the timeout only guards against hangs. */
  waitFor(pred: (m: Received) => boolean, timeoutMs = 60_000, what = 'message'): Promise<Received> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms; topics seen: ${[...new Set(this.messages.map((m) => m.topic))].join(', ')}`)), timeoutMs);
      this.waiters.push({ pred, resolve, reject, timer });
    });
  }

  close(): Promise<void> {
    for (const w of this.waiters) clearTimeout(w.timer);
    return this.client.endAsync(true);
  }
}
