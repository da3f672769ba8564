// MQTT through a real mosquitto (127.0.0.1): latency from the daemon's event output (the
// hop end that closes/opens an event, where the integrations tap it) to the subscriber's
// message, and events/s through the publisher (qos 1, acknowledged). Inference is not included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Registry } from 'prom-client';

import { mqttSchema } from '../src/config/sections/mqtt.js';
import { startIntegrations } from '../src/integrations/index.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { TestSubscriber } from '../test/integrations/mqtt-client.js';
import type { BenchResult } from './run.js';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

export async function run(): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-mqtt-bench-'));
  const broker = await startMosquitto(join(dir, 'broker'));
  try {
    const sub = await TestSubscriber.connect(broker.url, ['earshot/b/event']);
    const cfg = mqttSchema.parse({ url: broker.url, clientId: 'bench', discovery: false, queueMaxEvents: 100_000, inFlightMax: 256 });
    const labels = [{ index: 0, id: '/m/0', name: 'Dog' }];
    const integ = startIntegrations(
      { mqtt: cfg, webhooks: [], notify: { rules: [] } },
      { sources: [{ id: 'b', labels }], version: 'bench', registry: new Registry(), log: () => undefined, nowMs: Date.now, runId: 'r' },
    )!;
    while (integ.health().mqtt?.state !== 'connected') await new Promise((r) => setTimeout(r, 20));
    const sentAt = new Map<string, bigint>();
    const lat: number[] = [];
    sub.client.on('message', (_t, p) => {
      const id = (JSON.parse(p.toString()) as { id: string }).id;
      const t0 = sentAt.get(id);
      if (t0 !== undefined) lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    });
    const emit = (i: number) => {
      sentAt.set(`r/b:0:${i}`, process.hrtime.bigint());
      integ.tap('b', { kind: 'event', event: { type: 'event.start', id: `b:0:${i}`, sourceId: 'b', label: 'Dog', labelId: '/m/0', tSeconds: i, startSeconds: i, endSeconds: i, score: 0.9 } });
    };
    // latency: 1000 events at ~200/s (far above any real event rate)
    const n = 1000;
    for (let i = 0; i < n; i++) {
      emit(i);
      await new Promise((r) => setTimeout(r, 5));
    }
    while (lat.length < n) await new Promise((r) => setTimeout(r, 20));
    const latency = { events: n, p50Ms: pct(lat, 50), p99Ms: pct(lat, 99), maxMs: Math.max(...lat) };
    // throughput: 20000 events at once
    const m = 20_000;
    const before = sub.messages.length;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < m; i++) emit(n + i);
    while (sub.messages.length - before < m) await new Promise((r) => setTimeout(r, 5));
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    await integ.stop();
    await sub.close();
    return { latency, throughput: { events: m, seconds, eventsPerSecond: Math.round(m / seconds) }, qos: cfg.qos };
  } finally {
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
