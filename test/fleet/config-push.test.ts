import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import { connect } from 'nats';

import { pushConfig, watchPushedConfig } from '../../src/fleet/config-push.js';
import { run, startDaemonProcess } from '../e2e/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { startNats } from '../helpers/nats.js';
import { sharedPath } from '../helpers/shared.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, fn: () => boolean, ms = 60_000): Promise<void> {
  for (const end = Date.now() + ms; !fn(); await sleep(100)) if (Date.now() > end) throw new Error(`timed out: ${what}`);
}

test("pushed config via JetStream KV: `all` then the site's own key, merged; other sites' keys ignored; a delete removes", async (t) => {
  const nats = await startNats();
  t.after(() => nats.stop());
  const seen: unknown[] = [];
  const w = watchPushedConfig(
    nats.url,
    'farm.a',
    (o) => seen.push(o),
    () => undefined,
  );
  const nc = await connect({ servers: nats.url });
  await pushConfig(nc, 'all', { events: { onThreshold: 0.4, minDurationSeconds: 0.5 } });
  await until('all applied', () => seen.length === 1);
  await pushConfig(nc, 'farm-b', { events: { onThreshold: 0.9 } });
  await pushConfig(nc, 'farm.a', { events: { onThreshold: 0.6 } });
  await until('site applied', () => seen.length === 2);
  assert.deepEqual(seen[1], { events: { onThreshold: 0.6, minDurationSeconds: 0.5 } });
  await (await nc.jetstream().views.kv('earshot_config')).delete('farm_a');
  await until('delete applied', () => seen.length === 3);
  assert.deepEqual(w.current(), { events: { onThreshold: 0.4, minDurationSeconds: 0.5 } });
  await assert.rejects(pushConfig(nc, 'all', [] as never), /must be an object/);
  await nc.close();
  await w.stop();
});

test('a daemon applies a pushed config through its reload path and keeps running on a bad one', { timeout: 300_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'earshot-push-'));
  const nats = await startNats();
  t.after(async () => {
    await nats.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const model = join(root, 'yamnet');
  assert.equal((await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model])).code, 0);
  run('espeak-ng', ['-w', join(root, 'speech.wav'), 'pushed configuration']);
  const d = await startDaemonProcess({ models: { yamnetDir: model } }, join(root, 'd'), {
    args: ['--source', `file:${join(root, 'speech.wav')}`, '--loop', '--fleet', nats.url],
    env: { EARSHOT__FLEET__SITE: 'farm-1' },
  });
  t.after(() => d.stop());
  writeFileSync(join(root, 'bad.yaml'), 'events:\n  onThreshold: 7\n');
  writeFileSync(join(root, 'good.yaml'), 'events:\n  onThreshold: 0.35\n');
  const bad = await runCli(['push-config', join(root, 'bad.yaml'), '--fleet', nats.url, '--site', 'farm-1']);
  assert.equal(bad.code, 0, bad.stderr);
  await until('bad push rejected', () => /pushed config rejected.*events\.onThreshold/s.test(d.stderr()), 120_000);
  const good = await runCli(['push-config', join(root, 'good.yaml'), '--fleet', nats.url, '--site', 'farm-1']);
  assert.equal(good.code, 0, good.stderr);
  await until('good push applied', () => /config pushed for 'farm-1' \(revision 2\)[\s\S]*configuration reloaded/.test(d.stderr()), 120_000);
  assert.equal(d.child.exitCode, null, 'the daemon kept running');
});
