import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { type DaemonProcess, run, startDaemonProcess } from '../e2e/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';
import { type Msg, TestClient } from '../server/wsclient.js';

/**
 * Webhooks end to end: `earshot run` (real YAMNet, looped speech file) POSTs to a real
 * HTTP receiver on 127.0.0.1 that fails its first calls, then is down while the daemon
 * stops; a second daemon on the same state directory delivers what was left from the
 * history database's outbox. The daemons' WebSocket event streams are the ground truth.
 */
let root = '';
let model = '';
let server: Server;
let url = '';
const secret = 's3cret-key';
/** Calls left to fail with 503 (Infinity = receiver down). */
let failNext = 3;
let calls = 0;
const accepted: { run: string; key: string; valid: boolean }[] = [];
const daemons: DaemonProcess[] = [];
const clients: TestClient[] = [];

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'earshot-hooks-'));
  model = join(root, 'yamnet');
  const imp = await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model]);
  assert.equal(imp.code, 0, imp.stderr);
  run('espeak-ng', ['-w', join(root, 'speech-raw.wav'), 'Hello, this is a test of the earshot audio tagger. It should recognise human speech in this recording.']);
  run('sox', [join(root, 'speech-raw.wav'), '-r', '16000', '-c', '1', join(root, 'speech.wav'), 'pad', '0', '3']);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      calls++;
      if (failNext > 0) {
        failNext--;
        res.writeHead(503).end('try later');
        return;
      }
      const got = Buffer.from(String(req.headers['x-earshot-signature'] ?? ''));
      const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(body).digest('hex')}`);
      const e = JSON.parse(body) as { id: string; type: string };
      const [runId, id] = e.id.split('/');
      accepted.push({ run: runId!, key: `${id}#${e.type}`, valid: got.length === want.length && timingSafeEqual(got, want) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(daemons.map((d) => d.stop()));
  await new Promise((r) => server?.close(r));
  rmSync(root, { recursive: true, force: true });
});

const keyOf = (m: Msg) => `${String(m.id)}#${m.type === 'event.start' ? 'start' : 'end'}`;

async function daemon(): Promise<{ d: DaemonProcess; ws: TestClient }> {
  const d = await startDaemonProcess(
    {
      models: { yamnetDir: model },
      sources: [{ id: 'speech', kind: 'file', path: join(root, 'speech.wav'), loop: true, realtime: true }],
      supervision: { stopBudgetSeconds: 10 },
      webhooks: [{ url, labels: ['speech'], secret, retryInitialSeconds: 0.2, retryMaxSeconds: 1 }],
    },
    root,
  );
  daemons.push(d);
  const ws = await TestClient.connect(d.ws);
  clients.push(ws);
  await ws.request({ type: 'subscribe', kinds: ['events'] }, 'subscribed');
  return { d, ws };
}

/** The webhook filters on Speech; the daemon also has events of other labels. */
const speechKeys = (ws: TestClient) => ws.messages.filter((m) => m.type.startsWith('event.') && m.label === 'Speech').map(keyOf);
const ends = (ws: TestClient) => ws.messages.filter((m) => m.type === 'event.end' && m.label === 'Speech').length;

test('a receiver failing its first calls, then down across a daemon restart, gets every event with a valid signature', async () => {
  const a = await daemon();
  await a.ws.waitFor(() => ends(a.ws) >= 2, 90_000);
  // every Speech event so far reaches the receiver despite its first 3 failures
  const firstKeys = speechKeys(a.ws);
  await waitUntil(() => firstKeys.every((k) => accepted.some((x) => x.key === k)), 30_000, `first events delivered: ${firstKeys.join(' ')}`);
  assert.ok(calls > accepted.length, 'some calls failed first');
  const runAId = accepted[0]!.run;
  // receiver down: more events happen, the daemon stops with them undelivered
  failNext = Infinity;
  const n = ends(a.ws);
  await a.ws.waitFor(() => ends(a.ws) > n, 60_000);
  assert.equal(await a.d.stop(), 0, `first daemon: ${a.d.stderr()}`);
  const runA = speechKeys(a.ws);
  const missing = runA.filter((k) => !accepted.some((x) => x.key === k && x.run === runAId));
  assert.ok(missing.length >= 1, 'events were left undelivered when the first daemon stopped');

  // receiver back, a new daemon on the same state directory delivers them from the outbox
  failNext = 0;
  const b = await daemon();
  await waitUntil(() => runA.every((k) => accepted.some((x) => x.key === k && x.run === runAId)), 60_000, 'events left by the first daemon delivered by the second');
  await b.ws.waitFor(() => ends(b.ws) >= 1, 60_000);
  assert.equal(await b.d.stop(), 0, `second daemon: ${b.d.stderr()}`);
  const runB = speechKeys(b.ws);
  for (const k of runB)
    assert.ok(
      accepted.some((x) => x.key === k && x.run !== runAId),
      `${k} of the second run delivered`,
    );
  assert.ok(accepted.filter((x) => x.run === runAId).length >= runA.length, "the first run's events carry their own run id");
  assert.ok(
    accepted.every((x) => x.valid),
    'every delivery carries a valid X-Earshot-Signature',
  );
});

async function waitUntil(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; accepted: ${accepted.map((x) => x.key).join(' ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
