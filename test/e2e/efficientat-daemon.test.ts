import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { sharedPath } from '../helpers/shared.js';
import { type Msg, TestClient } from '../server/wsclient.js';
import { type DaemonProcess, startDaemonProcess } from './daemon-process.js';

/**
 * `earshot run` with the shipped EfficientAT mn04 (models.tagger: efficientat, no import):
 * scores every contextHopSeconds from the last contextWindowSeconds, over a real ws client.
 */
const root = mkdtempSync(join(tmpdir(), 'earshot-e2e-mn-'));
let daemon: DaemonProcess | undefined;
let client: TestClient | undefined;
after(async () => {
  await client?.close();
  await daemon?.stop();
  rmSync(root, { recursive: true, force: true });
});

test('daemon with the shipped mn04: 527 labels, Speech scores each 0.5 s hop and a Speech event', async () => {
  daemon = await startDaemonProcess(
    {
      models: { tagger: 'efficientat', contextWindowSeconds: 4, contextHopSeconds: 0.5 },
      sources: [{ id: 'speech', kind: 'file', path: sharedPath('golden/efficientat/speech_en.wav'), loop: true, realtime: true }],
    },
    root,
  );
  client = await TestClient.connect(daemon.ws);
  const hello = await client.waitFor((m) => m.type === 'hello');
  const models = hello.models as Array<{ name: string; labelCount: number }>;
  assert.equal(models[0]!.name, 'efficientat-mn04');
  assert.equal(models[0]!.labelCount, 527);
  // The start-up log names the tagger and engine actually in use (models.tagger may be auto).
  assert.match(daemon.stderr(), /tagger efficientat-mn04 on [a-z]+\/[a-z0-9]+, 527 labels: sources speech/);
  await client.request({ type: 'subscribe', topK: 3, kinds: ['scores', 'events'] }, 'subscribed');
  const isSpeechTop = (m: Msg) => m.type === 'scores' && (m.top as Array<{ label: string }>).slice(0, 2).some((l) => l.label === 'Speech');
  await client.waitFor(isSpeechTop);
  const start = await client.waitFor((m) => m.type === 'event.start' && m.label === 'Speech');
  assert.ok((start.score as number) >= 0.5);
  // Consecutive frames are one hop apart in stream time, except around the file's last partial hop.
  const c = client;
  await c.waitFor(() => c.messages.filter((m) => m.type === 'scores').length >= 6);
  const ts = c.messages.filter((m) => m.type === 'scores').map((m) => m.t as number);
  const gaps = ts.slice(1).map((t, i) => t - ts[i]!);
  assert.ok(gaps.length >= 3, `${gaps.length} gaps`);
  assert.ok(gaps.filter((g) => Math.abs(g - 0.5) < 1e-6).length >= Math.ceil(gaps.length / 2), `gaps ${gaps.join(', ')}`);
  assert.ok(
    gaps.every((g) => g > 0 && g <= 0.5 + 1e-6),
    `gaps ${gaps.join(', ')}`,
  );
});
