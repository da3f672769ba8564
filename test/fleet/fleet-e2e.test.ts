import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import Database from 'better-sqlite3';

import { SITE_DOWN } from '../../src/fleet/sites.js';
import { PostgresHistoryStore } from '../../src/history/postgres.js';
import { type DaemonProcess, run, startDaemonProcess } from '../e2e/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { startNats } from '../helpers/nats.js';
import { startPostgres } from '../helpers/postgres.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `earshot hub` as a child process; resolves once it listens. */
async function startHubProcess(args: string[]): Promise<{ stop: () => Promise<number | null>; stderr: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), 'hub', '--port', '0', ...args], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('listening on')) resolve();
    });
    void exited.then((c) => reject(new Error(`hub exited ${c}: ${err}`)));
  });
  return {
    stderr: () => err,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/**
 * The must-show: three real `earshot run --fleet` daemons (YAMNet on looped speech
 * files, real time) and one `earshot hub` process, real nats-server -js and
 * PostgreSQL. NATS is SIGKILLed and restarted mid-stream, and site-3's uplink is cut
 * for 60 s. Afterwards the hub's PostgreSQL holds exactly the events of each daemon's
 * own SQLite history, counted by id: none lost, none twice.
 */
test('3 edge daemons + hub: NATS crash and a 60 s cut-off lose and double nothing (by id against local histories)', { timeout: 600_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'earshot-fleet-e2e-'));
  const nats = await startNats();
  const pgs = await startPostgres();
  const proxy = await startTcpProxy(nats.port);
  const daemons: DaemonProcess[] = [];
  let hub: Awaited<ReturnType<typeof startHubProcess>> | undefined;
  t.after(async () => {
    await Promise.all(daemons.map((d) => d.stop()));
    await hub?.stop();
    await proxy.close();
    await nats.stop();
    await pgs.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const model = join(root, 'yamnet');
  const imp = await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model]);
  assert.equal(imp.code, 0, imp.stderr);
  run('espeak-ng', ['-w', join(root, 'raw.wav'), 'Many microphones, many sites, one history.']);
  run('sox', [join(root, 'raw.wav'), '-r', '16000', '-c', '1', join(root, 'speech.wav'), 'pad', '0', '1.5']);
  const url = await pgs.database();
  hub = await startHubProcess(['--fleet', nats.url, '--db', url]);

  const sites = ['site-1', 'site-2', 'site-3'];
  for (const [i, site] of sites.entries()) {
    const fleetUrl = i === 2 ? `nats://127.0.0.1:${proxy.port}` : nats.url;
    const d = await startDaemonProcess({ models: { yamnetDir: model }, history: { flushSeconds: 0.5 }, fleet: { heartbeatSeconds: 2 } }, join(root, site), {
      args: ['--source', `file:${join(root, 'speech.wav')}`, '--loop', '--fleet', fleetUrl],
      env: { EARSHOT__FLEET__SITE: site },
    });
    daemons.push(d);
  }
  const store = new PostgresHistoryStore(url);
  t.after(() => store.close());
  const hubEvents = async () => (await store.events({ limit: 100_000 })).events.filter((e) => e.model !== 'hub');
  for (let i = 0; (await hubEvents()).length === 0; i++) {
    if (i > 300) throw new Error(`no event reached the hub: ${hub.stderr()} ${daemons[0]!.stderr()}`);
    await sleep(500);
  }
  await sleep(5000);
  await nats.kill('SIGKILL');
  await sleep(5000);
  await nats.restart();
  await sleep(5000);
  proxy.cut();
  await sleep(60_000);
  proxy.restore();
  await sleep(10_000);
  await Promise.all(daemons.map((d) => d.stop()));

  const local = new Map<string, string[]>();
  let openLocally = 0;
  for (const site of sites) {
    const db = new Database(join(root, site, 'history.sqlite'), { readonly: true });
    const rows = db.prepare('SELECT id, end_s FROM events').all() as { id: string; end_s: number | null }[];
    local.set(
      site,
      rows.map((r) => `${site}/${r.id}`),
    );
    openLocally += rows.filter((r) => r.end_s === null).length;
    db.close();
  }
  const expected = [...local.values()].flat();
  for (let i = 0; i < 120 && (await hubEvents()).length < expected.length; i++) await sleep(500);
  const got = await hubEvents();
  for (const site of sites) {
    const ids = local.get(site)!;
    assert.ok(ids.length >= 5, `${site} recorded events locally (${ids.length})`);
    const atHub = got.filter((e) => e.stream.site === site).map((e) => e.id);
    assert.equal(atHub.length, ids.length, `${site}: hub has ${atHub.length} events, the daemon recorded ${ids.length}`);
    assert.deepEqual(new Set(atHub), new Set(ids), `${site}: the same ids`);
  }
  // Ended events are complete at the hub too (an end is never lost behind its start).
  const openAtHub = got.filter((e) => e.endSeconds === null).length;
  assert.equal(openAtHub, openLocally, `${openAtHub} events open at the hub, ${openLocally} in the local histories`);
  const down = (await store.events({ limit: 50, labelIds: [SITE_DOWN.labelId] })).events;
  assert.ok(
    down.some((d) => d.stream.site === 'site-3'),
    `site-3's 60 s outage raised a Site down event: ${JSON.stringify(down)}`,
  );
});
