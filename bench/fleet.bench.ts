// Fleet (issue #17): hub throughput into PostgreSQL, edge -> hub latency, per-message costs
// for docs/scale.md, and distributed index throughput with 1 and 2 `earshot worker` processes.
// Real nats-server -js and PostgreSQL (started like the tests do). FLEET_BENCH_MESSAGES
// (default 20,000 event + 20,000 segment messages); FLEET_BENCH_INDEX=0 skips the workers part.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { connect, headers } from 'nats';
import { Registry } from 'prom-client';

import { fleetSchema } from '../src/config/sections/fleet.js';
import type { FleetMessage } from '../src/fleet/contracts.js';
import { FleetEdge } from '../src/fleet/edge.js';
import { startHub } from '../src/fleet/hub.js';
import { ensureStream } from '../src/fleet/nats.js';
import { keyOf, subjectOf, wireSegment } from '../src/fleet/wire.js';
import { quantize } from '../src/history/embedding.js';
import { PostgresHistoryStore } from '../src/history/postgres.js';
import { startNats } from '../test/helpers/nats.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { rng } from '../test/helpers/rng.js';
import { projectRoot, sharedPath } from '../test/helpers/shared.js';
import type { BenchResult } from './run.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TOP = Array.from({ length: 5 }, (_, k) => ({ labelId: `/m/l${k}`, label: `Label ${k}`, score: 0.9 - k * 0.1 }));

function messages(site: string, n: number, r: () => number): FleetMessage[] {
  const out: FleetMessage[] = [];
  const now = Date.now();
  for (let i = 0; i < n; i++) {
    const wall = now - (n - i) * 960;
    const stream = { kind: 'source' as const, name: `mic${i % 4}` };
    out.push({
      type: 'event',
      site,
      queuedMs: now,
      record: { id: `r/${stream.name}:0:${i}`, stream, label: 'Dog', labelId: '/m/0bt9lr', startSeconds: i, endSeconds: i + 1, peakScore: 0.8, meanScore: 0.6, model: 'yamnet', wallStartMs: wall },
    });
    out.push({
      type: 'segment',
      site,
      queuedMs: now,
      record: wireSegment({
        stream,
        startSeconds: i * 0.96,
        endSeconds: i * 0.96 + 0.96,
        wallMs: wall,
        model: 'yamnet',
        top: TOP,
        embedding: quantize(Float32Array.from({ length: 1024 }, () => r() - 0.5)),
      }),
    });
  }
  return out;
}

async function hubPart(natsUrl: string, pgUrl: string, n: number): Promise<BenchResult> {
  const fleet = fleetSchema.parse({ url: natsUrl });
  const nc = await connect({ servers: natsUrl });
  await ensureStream(await nc.jetstreamManager(), fleet.stream, ['earshot.*.*.event', 'earshot.*.*.segment', 'earshot.*.*.heartbeat'], fleet.streamMaxAgeSeconds);
  const js = nc.jetstream();
  const msgs = messages('bench', n, rng(3));
  const sizes = { event: 0, segment: 0 };
  for (let i = 0; i < msgs.length; i += 500) {
    await Promise.all(
      msgs.slice(i, i + 500).map((m) => {
        const data = Buffer.from(JSON.stringify(m));
        sizes[m.type as 'event' | 'segment'] += data.length;
        const h = headers();
        h.set('Nats-Msg-Id', keyOf(m));
        return js.publish(subjectOf('earshot', m.site, m.type === 'heartbeat' ? '_' : m.record.stream.name, m.type), data, { headers: h });
      }),
    );
  }
  await nc.close();
  // The backlog is in JetStream; the hub drains it into PostgreSQL as fast as it can.
  const store = new PostgresHistoryStore(pgUrl, { poolMax: 4 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const hub = await startHub({ fleet, store, host: '127.0.0.1', port: 0, log: () => undefined });
  for (;;) {
    const m = await hub.registry.getSingleMetric('earshot_hub_messages_total')!.get();
    if (m.values.reduce((a, v) => a + v.value, 0) >= 2 * n) break;
    await sleep(100);
  }
  // Acked after commit; wait for the last commit.
  await sleep(300);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rows = await store.pool.query(`SELECT (SELECT count(*) FROM events) AS ev, (SELECT count(*) FROM segments) AS seg,
    (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relname LIKE 'segment%' AND c.relkind = 'r') AS segbytes,
    (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relname LIKE 'events%' AND c.relkind = 'r') AS evbytes`);
  const row = rows.rows[0] as { ev: number; seg: number; segbytes: number; evbytes: number };
  await hub.stop();

  // Edge -> hub latency: one FleetEdge (SQLite-free: memory outbox) publishing 50 events/s for 20 s into the running pipeline.
  const hub2 = await startHub({ fleet, store, host: '127.0.0.1', port: 0, log: () => undefined });
  const edge = new FleetEdge(fleet, { site: 'lat', version: 'bench', registry: new Registry(), log: () => undefined, nowMs: Date.now, sources: () => [] });
  await sleep(1000);
  for (let i = 0; i < 1000; i++) {
    edge.addEvent({
      id: `lat/${i}`,
      stream: { kind: 'source', name: 'mic' },
      label: 'Dog',
      labelId: '/m/0bt9lr',
      startSeconds: i,
      endSeconds: i + 1,
      peakScore: 0.5,
      meanScore: 0.5,
      model: 'yamnet',
      wallStartMs: Date.now(),
    });
    await sleep(20);
  }
  await sleep(3000);
  const lat = (
    await store.pool.query(
      `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY created_ms - wall_start_ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY created_ms - wall_start_ms) AS p99, count(*) AS n FROM events WHERE id LIKE 'lat/%'`,
    )
  ).rows[0] as { p50: number; p99: number; n: number };
  await edge.stop();
  await hub2.stop();
  await store.close();
  return {
    hubMessages: 2 * n,
    hubMessagesPerS: Math.round((2 * n) / seconds),
    hubEventsPerS: Math.round(n / seconds),
    hubCpuMsPerMessage: Math.round(((cpu.user + cpu.system) / 1000 / (2 * n)) * 1000) / 1000,
    wireBytesPerEvent: Math.round(sizes.event / n),
    wireBytesPerSegment: Math.round(sizes.segment / n),
    pgBytesPerEvent: Math.round(row.evbytes / row.ev),
    pgBytesPerSegment: Math.round(row.segbytes / row.seg),
    edgeToHubMs: { p50: Math.round(lat.p50), p99: Math.round(lat.p99), n: Number(lat.n) },
  };
}

function startWorker(args: string[], env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), 'worker', ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve) => child.stdout!.on('data', (d: Buffer) => d.toString().includes('earshot worker on') && resolve(child)));
}

async function indexPart(natsUrl: string, pgUrl: () => Promise<string>, dir: string): Promise<BenchResult> {
  const model = join(dir, 'yamnet');
  spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), 'models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model]);
  spawnSync('espeak-ng', ['-w', join(dir, 'raw.wav'), 'Distributed archive indexing throughput with one and two workers.']);
  const out: BenchResult = {};
  for (const workers of [1, 2]) {
    const archive = join(dir, `archive-${workers}`);
    mkdirSync(archive, { recursive: true });
    for (let i = 0; i < 8; i++) spawnSync('sox', [join(dir, 'raw.wav'), '-r', '16000', '-c', '1', join(archive, `f${i}.wav`), 'repeat', '20', 'speed', String(0.9 + i * 0.02)]);
    const db = await pgUrl();
    const env = { EARSHOT__MODELS__YAMNETDIR: model };
    const procs = await Promise.all(Array.from({ length: workers }, () => startWorker(['--queue', natsUrl, '--db', db], env)));
    const t0 = performance.now();
    const q = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), 'index', archive, '--queue', natsUrl, '--wait'], {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      encoding: 'utf8',
    });
    const seconds = (performance.now() - t0) / 1000;
    for (const p of procs) p.kill('SIGTERM');
    const s = new PostgresHistoryStore(db);
    const audio = Number((await s.pool.query('SELECT sum(duration_seconds) AS s FROM files')).rows[0].s);
    await s.close();
    out[`index${workers}Worker`] = { files: 8, audioSeconds: Math.round(audio), wallSeconds: Math.round(seconds * 10) / 10, xRealTime: Math.round((audio / seconds) * 10) / 10, ok: q.status === 0 };
  }
  return out;
}

export async function run(): Promise<BenchResult> {
  const n = Number(process.env.FLEET_BENCH_MESSAGES ?? 20_000);
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-fleet-'));
  const nats = await startNats();
  const pgs = await startPostgres();
  try {
    const hub = await hubPart(nats.url, await pgs.database(), n);
    const index = process.env.FLEET_BENCH_INDEX === '0' ? {} : await indexPart(nats.url, () => pgs.database(), dir);
    return { ...hub, ...index, note: 'test PostgreSQL (fsync off), nats-server file storage, same 2-core machine as the hub' };
  } finally {
    await nats.stop();
    await pgs.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
