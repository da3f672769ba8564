import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { concatMap, from } from 'rxjs';

import { parseConfig } from '../../src/config/load.js';
import { importYamnet } from '../../src/models/yamnet/import.js';
import { defaultDaemonDeps, startDaemon } from '../../src/pipeline/daemon.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';
import { TestClient } from './wsclient.js';

/**
 * `earshot tag --json` and the daemon's WebSocket messages come from the same serializers
 * (server/protocol.ts) and the same events stage (events/stage.ts): for one real file, the
 * lines have the same fields, the same windows and the same labels; the only documented
 * differences are `t` of a scores line (window start for tag, window end on the wire) and `seq`.
 */
let root = '';
let model = '';
let wav = '';
type Line = Record<string, unknown> & { type: string };

before(() => {
  root = mkdtempSync(join(tmpdir(), 'earshot-tagwire-'));
  model = join(root, 'yamnet');
  importYamnet({ tflitePath: sharedPath('models/yamnet/yamnet.tflite'), outDir: model });
  wav = join(root, 'speech.wav');
  const raw = join(root, 'raw.wav');
  assert.equal(spawnSync('espeak-ng', ['-w', raw, 'Earshot compares the command line with the web socket, line by line.']).status, 0);
  assert.equal(spawnSync('sox', [raw, '-r', '16000', wav, 'pad', '0', '1']).status, 0);
});
after(() => rmSync(root, { recursive: true, force: true }));

const keys = (m: Record<string, unknown>) => Object.keys(m).sort();

test('tag --json prints the WebSocket scores/event messages for the same file', async (t) => {
  const cli = await runCli(['tag', wav, '--model', model, '--json', '--top', '5']);
  assert.equal(cli.code, 0, cli.stderr);
  const tagLines = cli.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
  const tagScores = tagLines.filter((l) => l.type === 'scores');
  const tagEvents = tagLines.filter((l) => l.type.startsWith('event.'));
  assert.ok(tagScores.length >= 8 && tagEvents.length >= 2, cli.stdout);

  // The file source starts once the client has subscribed, so it sees every frame.
  let go!: () => void;
  const subscribed = new Promise<void>((r) => (go = r));
  const base = await defaultDaemonDeps({ version: 'test' });
  const config = parseConfig({ models: { yamnetDir: model }, events: { topK: 5 }, server: { port: 0 }, sources: [{ id: 'file', kind: 'file', path: wav, realtime: false }] });
  const d = await startDaemon(config, {
    ...base,
    openSource: (cfg) => {
      const src = base.openSource(cfg);
      assert.equal(src.mode, 'paced');
      return { mode: 'paced', open: (gate) => from(subscribed).pipe(concatMap(() => src.open(gate))) };
    },
  });
  t.after(() => d.stop());
  const c = await TestClient.connect(`ws://127.0.0.1:${d.address.port}/`);
  t.after(() => c.close());
  await c.request({ type: 'subscribe', kinds: ['scores', 'events'], topK: 5 }, 'subscribed');
  go();
  await d.finished;
  await c.request({ type: 'ping' }, 'pong');
  const wsScores = c.messages.filter((m) => m.type === 'scores') as Line[];
  const wsEvents = c.messages.filter((m) => m.type.startsWith('event.')) as Line[];

  // Same fields: scores identical; events differ only by the server's `seq`.
  for (const m of wsScores) assert.deepEqual(keys(m), keys(tagScores[0]!));
  for (const m of wsEvents)
    assert.deepEqual(
      keys(m).filter((k) => k !== 'seq'),
      keys(tagEvents[0]!),
    );
  assert.deepEqual(keys(tagScores[0]!), ['end', 'source', 'start', 't', 'top', 'type']);

  // Same windows and labels: every hop the daemon scored is a tag line with that window.
  assert.ok(wsScores.length >= tagScores.length - 1, `daemon ${wsScores.length} hops, tag ${tagScores.length}`);
  for (const m of wsScores) {
    const line = tagScores.find((l) => l.start === m.start);
    assert.ok(line, `no tag line for the window starting at ${String(m.start)}`);
    assert.equal(line.t, line.start, 'tag stamps a hop at its start');
    assert.equal(m.t, m.end, 'the wire stamps it at its end');
    assert.equal(line.end, m.end);
    assert.equal(line.source, m.source);
    const top = (x: Line) => (x.top as { id: string; label: string; score: number }[]).map((e) => [e.id, e.label]);
    assert.deepEqual(top(line)[0], top(m)[0], `best label at ${String(m.start)}`);
    const tagTop = line.top as { id: string; score: number }[];
    for (const e of m.top as { id: string; score: number }[]) {
      const same = tagTop.find((x) => x.id === e.id);
      if (same) assert.ok(Math.abs(same.score - e.score) < 0.01, `${e.id} at ${String(m.start)}: ${same.score} vs ${e.score}`);
    }
  }

  // Same events (ids, labels, times, peak score) from the same stage.
  const strip = (m: Line) => Object.fromEntries(Object.entries(m).filter(([k]) => k !== 'seq' && k !== 'score'));
  assert.deepEqual(wsEvents.map(strip), tagEvents.map(strip));
  for (const [i, m] of wsEvents.entries()) assert.ok(Math.abs((m.score as number) - (tagEvents[i]!.score as number)) < 0.01);
});
