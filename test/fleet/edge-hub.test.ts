import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import { Registry } from 'prom-client';

import { fleetSchema } from '../../src/config/sections/fleet.js';
import { FleetEdge } from '../../src/fleet/edge.js';
import { startHub } from '../../src/fleet/hub.js';
import { SITE_DOWN } from '../../src/fleet/sites.js';
import type { EventRecord, SegmentRecord } from '../../src/history/contracts.js';
import { quantize } from '../../src/history/embedding.js';
import { PostgresHistoryStore } from '../../src/history/postgres.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { startNats } from '../helpers/nats.js';
import { startPostgres } from '../helpers/postgres.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, fn: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * In-process edges (FleetEdge over a real SQLite outbox, as in the daemon) and hub,
 * over a real nats-server -js and a real PostgreSQL: NATS crashes and restarts
 * mid-stream, one site's link is cut and restored; every event and segment each edge
 * handed over reaches PostgreSQL exactly once.
 */
test('edges -> NATS JetStream -> hub -> PostgreSQL: nothing lost or doubled across a NATS crash and a cut-off site; site down raised', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-fleet-'));
  const nats = await startNats();
  const pgs = await startPostgres();
  t.after(async () => {
    await nats.stop();
    await pgs.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const url = await pgs.database();
  const fleet = fleetSchema.parse({ url: nats.url, flushSeconds: 0.05, retrySeconds: 0.2, heartbeatSeconds: 0.5, siteDownSeconds: 2, ackWaitSeconds: 2 });
  const hubStore = new PostgresHistoryStore(url);
  const logs: string[] = [];
  const hub = await startHub({ fleet, store: hubStore, host: '127.0.0.1', port: 0, log: (l) => logs.push(l) });

  const proxy = await startTcpProxy(nats.port);
  const sites = ['farm-a', 'farm-b', 'farm-c'];
  const edges = sites.map((site, i) => {
    const outbox = new SqliteHistoryStore(join(dir, `${site}.sqlite`));
    const edgeUrl = i === 2 ? `nats://127.0.0.1:${proxy.port}` : nats.url;
    const edge = new FleetEdge(
      { ...fleet, url: edgeUrl },
      { site, version: 'test', outbox, registry: new Registry(), log: (l) => logs.push(`${site}: ${l}`), nowMs: Date.now, sources: () => [{ id: 'mic', state: 'up', lastAudioMs: Date.now() }] },
    );
    return { site, edge, outbox, events: [] as EventRecord[], segments: [] as SegmentRecord[] };
  });

  let tick = 0;
  const produce = () => {
    for (const e of edges) {
      const wall = Date.now();
      const ev: EventRecord = {
        id: `run1/mic:0:${tick}`,
        stream: { kind: 'source', name: 'mic' },
        label: 'Dog',
        labelId: '/m/0bt9lr',
        startSeconds: tick,
        endSeconds: null,
        peakScore: 0.6,
        meanScore: 0.6,
        model: 'yamnet',
        wallStartMs: wall,
      };
      const seg: SegmentRecord = {
        stream: { kind: 'source', name: 'mic' },
        startSeconds: tick,
        endSeconds: tick + 0.96,
        wallMs: wall,
        model: 'yamnet',
        top: [{ labelId: '/m/0bt9lr', label: 'Dog', score: 0.6 }],
        embedding: quantize(Float32Array.from({ length: 64 }, (_, i) => Math.sin(i + tick))),
      };
      e.edge.addEvent(ev);
      e.edge.addSegment(seg);
      e.edge.addEvent({ ...ev, endSeconds: tick + 0.5, peakScore: 0.9 });
      e.events.push(ev);
      e.segments.push(seg);
    }
    tick++;
  };
  const run = async (ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      produce();
      await sleep(50);
    }
  };

  await run(1500);
  await nats.kill('SIGKILL'); // a crash mid-stream
  await run(1500);
  await nats.restart();
  await run(1000);
  proxy.cut(); // farm-c loses its uplink; the others go on
  await run(3500);
  await until('site down for farm-c', async () => hub.sites.list().some((s) => s.site === 'farm-c' && s.down));
  proxy.restore();
  await run(1000);

  const total = tick;
  await until('every event at the hub', async () => (await hubStore.events({ limit: 10_000 })).events.filter((e) => e.model === 'yamnet').length === total * 3, 90_000).catch(async (e: Error) => {
    const counts = (await hubStore.sources()).map((s) => `${s.stream.site}/${s.stream.name}: ${s.events} events ${s.segments} segments`);
    throw new Error(`${e.message}: ${total} per site, hub has ${counts.join('; ')}\n${logs.slice(-30).join('\n')}`);
  });
  for (const e of edges) {
    const ids = e.events.map((x) => `${e.site}/${x.id}`);
    const stored = (await hubStore.events({ limit: 10_000, source: `${e.site}/mic` })).events.filter((x) => x.model === 'yamnet');
    assert.equal(stored.length, ids.length, `${e.site}: every event once`);
    assert.deepEqual(new Set(stored.map((x) => x.id)), new Set(ids));
    assert.ok(
      stored.every((x) => x.endSeconds !== null && x.peakScore === 0.9 && x.stream.site === e.site),
      `${e.site}: every event completed`,
    );
  }
  await until('every segment at the hub', async () => (await hubStore.sources()).filter((s) => s.stream.name === 'mic').every((s) => s.segments === total), 60_000);
  const src = await hubStore.sources();
  assert.deepEqual(
    src
      .filter((s) => s.stream.name === 'mic')
      .map((s) => [s.stream.site, s.segments])
      .sort(),
    sites.map((s) => [s, total]),
  );
  // The cut-off site's outage is in the history as a completed "Site down" event.
  const down = (await hubStore.events({ limit: 10, labelIds: [SITE_DOWN.labelId] })).events;
  assert.ok(
    down.some((d) => d.stream.site === 'farm-c' && d.endSeconds !== null && d.endSeconds >= 1),
    JSON.stringify(down),
  );
  // The edges' outboxes are empty: everything was acknowledged.
  for (const e of edges) assert.deepEqual(await e.outbox.outboxPending('fleet', 10), []);
  const metrics = await hub.registry.metrics();
  assert.match(metrics, /earshot_hub_latency_seconds_count \d+/);

  for (const e of edges) {
    await e.edge.stop();
    await e.outbox.close();
  }
  await proxy.close();
  await hub.stop();
  await hubStore.close();
});
