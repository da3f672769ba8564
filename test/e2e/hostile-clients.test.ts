import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import wavefile from 'wavefile';

import { runCli } from '../helpers/cli.js';
import { rng } from '../helpers/rng.js';
import { sharedPath } from '../helpers/shared.js';
import { promValue } from '../server/harness.js';
import { httpGet, TestClient } from '../server/wsclient.js';
import { type DaemonProcess, startDaemonProcess } from './daemon-process.js';

/**
 * Issue #19 item 6 as a user would meet it: `earshot run` (real YAMNet on a looping file,
 * as fast as it tags) and 100 real ws clients that subscribe to every score and then never
 * read. The daemon must cut them off within server.queueBudgetBytes, keep its RSS within
 * that budget (plus GC slack), and keep serving a client that reads.
 */
const root = mkdtempSync(join(tmpdir(), 'earshot-hostile-'));
const clients: TestClient[] = [];
let daemon: DaemonProcess | undefined;

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await daemon?.stop();
  rmSync(root, { recursive: true, force: true });
});

const cutOff = (prom: string) => promValue(prom, 'earshot_budget_disconnects_total') + promValue(prom, 'earshot_stalled_disconnects_total');
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const rssBytes = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

test('100 clients that never read: cut off within server.queueBudgetBytes (8 MiB) while a reading client keeps receiving', async () => {
  const model = join(root, 'yamnet');
  const imp = await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model]);
  assert.equal(imp.code, 0, imp.stderr);
  const r = rng(19);
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, 16000, '16', Int16Array.from({ length: 5 * 16000 }, () => Math.round((r() - 0.5) * 8000)) as unknown as number[]);
  writeFileSync(join(root, 'noise.wav'), wav.toBuffer());
  const budget = 8 * 1024 * 1024;
  daemon = await startDaemonProcess(
    {
      models: { yamnetDir: model },
      sources: [{ id: 'noise', kind: 'file', path: join(root, 'noise.wav'), loop: true, realtime: false }],
      // stall and heartbeat timeouts out of the way: the budget alone must cut the hostile clients off
      server: { queueBudgetBytes: budget, stalledDisconnectSeconds: 600, heartbeatSeconds: 600 },
    },
    root,
  );
  const pid = daemon.child.pid!;
  const reader = await TestClient.connect(daemon.ws);
  clients.push(reader);
  await reader.request({ type: 'subscribe', topK: 1000, minScore: 0 }, 'subscribed');
  await reader.waitFor((m) => m.type === 'scores');
  const before = rssBytes(pid);

  for (let i = 0; i < 100; i++) {
    const h = await TestClient.connect(daemon.ws);
    clients.push(h);
    await h.request({ type: 'subscribe', topK: 1000, minScore: 0 }, 'subscribed');
    (h.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  }
  let peakRss = 0;
  let peakHeld = 0;
  let prom = '';
  for (;;) {
    prom = (await httpGet(`${daemon.http}/metrics`)).body;
    peakRss = Math.max(peakRss, rssBytes(pid));
    // Without the budget each client would hold 256 messages of ~25 kB: over 600 MB for 100.
    assert.ok(peakRss - before < budget + 96 * 1024 * 1024, `RSS grew from ${mib(before)} to ${mib(peakRss)} MiB`);
    peakHeld = Math.max(peakHeld, promValue(prom, 'earshot_client_queued_bytes'));
    // One client alone holds at most 256 messages + 256 kB (< budget), so the last may outlive the others.
    if (cutOff(prom) >= 99) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // A client whose queue fills with events (never dropped) is cut off as stalled instead; either way it is gone.
  assert.ok(promValue(prom, 'earshot_budget_disconnects_total') >= 90, prom);
  assert.ok(promValue(prom, 'earshot_subscribers') <= 2);
  assert.ok(peakHeld <= budget, `held ${peakHeld} bytes for clients, budget ${budget}`);
  console.log(`hostile clients: RSS ${mib(before)} -> peak ${mib(peakRss)} MiB, peak held ${mib(peakHeld)} MiB of ${mib(budget)} MiB`);

  const from = reader.messages.length;
  await reader.waitFor((m) => m.type === 'scores', 20_000, from);
  assert.equal((await reader.request({ type: 'stats' }, 'stats')).dropped, 0, 'the reading client lost nothing');
});
