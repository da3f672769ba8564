import assert from 'node:assert/strict';
import { test } from 'node:test';

import { sourcesFromFlags } from '../../src/cli/sources.js';
import { parseConfig } from '../../src/config/load.js';
import { isEarshotError } from '../../src/errors.js';
import { logMelPatches } from '../../src/features/patches.js';
import { type DaemonDeps, startDaemon } from '../../src/pipeline/daemon.js';
import { liveSource } from '../../src/pipeline/flow.js';
import { pacedAudio } from '../../src/pipeline/paced-file.js';
import { runCli } from '../helpers/cli.js';
import { captureLogger } from '../helpers/log.js';
import { httpGet, TestClient } from '../server/wsclient.js';
import { energyTagger, toneBursts } from './fakes.js';

const RATE = 16000;
const bursts = toneBursts(RATE, [
  [1, 0.001],
  [3, 0.5],
  [2, 0.001],
]);

function deps(over: Partial<DaemonDeps> = {}, calls = { n: 0 }): DaemonDeps {
  return {
    version: 'test',
    // the fast paced file path with in-memory audio: runs at tagger speed, ends after 6 s of audio
    openSource: () => pacedAudio(async () => ({ samples: bursts, sampleRateHz: RATE, channels: 1 }), { loop: false }),
    loadTagger: async () => energyTagger(-4.2, calls),
    patches: logMelPatches,
    ...over,
  };
}

const cfg = (extra: Record<string, unknown> = {}) =>
  parseConfig({
    sources: [
      { id: 'a', kind: 'file', path: 'a.wav', realtime: false },
      { id: 'b', kind: 'file', path: 'b.wav', realtime: false },
    ],
    server: { port: 0 },
    ...extra,
  });

test('daemon: sources run to the end, events are retained for replay, health reports ended sources', async (t) => {
  const calls = { n: 0 };
  const d = await startDaemon(cfg(), deps({}, calls));
  t.after(() => d.stop());
  await d.finished;
  const c = await TestClient.connect(`ws://127.0.0.1:${d.address.port}/`);
  t.after(() => c.close());
  await c.request({ type: 'subscribe', labels: ['Loud'], kinds: ['events'], since: 0 }, 'subscribed');
  await c.request({ type: 'ping' }, 'pong');
  const ev = c.messages.filter((m) => m.type.startsWith('event.'));
  assert.deepEqual(ev.map((m) => [m.source, m.type]).sort(), [
    ['a', 'event.end'],
    ['a', 'event.start'],
    ['b', 'event.end'],
    ['b', 'event.start'],
  ]);
  assert.ok(calls.n >= 2 * 11, `both sources tagged every hop (${calls.n} calls)`);
  const h = await httpGet(`http://127.0.0.1:${d.address.port}/healthz`);
  assert.equal(h.status, 200);
  assert.deepEqual(
    (JSON.parse(h.body) as { sources: { state: string }[] }).sources.map((s) => s.state),
    ['ended', 'ended'],
  );
  // Loud, and Quiet before and after it: the first window (0-0.975 s of quiet) counts in full towards minDurationSeconds
  assert.match((await httpGet(`http://127.0.0.1:${d.address.port}/metrics`)).body, /earshot_events_total\{source="a"\} 3/, 'one Loud and two Quiet events');
});

test('daemon: bad configuration fails before anything listens; taggers are freed', async () => {
  await assert.rejects(startDaemon(cfg({ sources: [] }), deps()), (e) => isEarshotError(e, 'CONFIG_INVALID') && /no sources/.test(e.message));
  await assert.rejects(
    startDaemon(
      cfg({
        sources: [
          { id: 'x', kind: 'stdin' },
          { id: 'x', kind: 'stdin' },
        ],
      }),
      deps(),
    ),
    (e) => isEarshotError(e, 'CONFIG_INVALID') && /"x" is used twice/.test(e.message),
  );
  let disposed = 0;
  const tagger = energyTagger();
  const failing = deps({
    loadTagger: async (dir) => {
      if (dir === 'bad') throw new Error('no such model');
      return { ...tagger, dispose: async () => void disposed++ };
    },
  });
  await assert.rejects(
    startDaemon(
      cfg({
        sources: [
          { id: 'a', kind: 'stdin' },
          { id: 'b', kind: 'stdin', modelDir: 'bad' },
        ],
      }),
      failing,
    ),
    /no such model/,
  );
  assert.equal(disposed, 1);
});

test('daemon: reload swaps the token for new connections, stop closes clients and frees models', async () => {
  let disposed = 0;
  const tagger = energyTagger();
  const d = await startDaemon(
    cfg({ server: { port: 0, token: 'one' }, sources: [{ id: 'a', kind: 'file', path: 'a.wav', loop: true, realtime: false }] }),
    deps({
      loadTagger: async () => ({ ...tagger, dispose: async () => void disposed++ }),
      openSource: () => pacedAudio(async () => ({ samples: bursts, sampleRateHz: RATE, channels: 1 }), { loop: true }),
    }),
  );
  const url = `ws://127.0.0.1:${d.address.port}/`;
  const c = await TestClient.connect(`${url}?token=one`);
  await c.request({ type: 'subscribe', kinds: ['status', 'events'] }, 'subscribed');
  d.reload(cfg({ server: { port: 0, token: 'two' }, sources: [{ id: 'a', kind: 'file', path: 'a.wav', loop: true, realtime: false }] }));
  await assert.rejects(TestClient.connect(`${url}?token=one`), /401/);
  const c2 = await TestClient.connect(`${url}?token=two`);
  assert.equal((await c.request({ type: 'ping' }, 'pong')).type, 'pong', 'the old client stays connected');
  const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
  await d.stop();
  assert.equal(await closed, 1001);
  assert.equal(disposed, 1);
  assert.ok(
    c.messages.some((m) => m.type === 'status' && m.state === 'stopped'),
    'clients hear the source stop before the close',
  );
  await c2.close();
  await d.finished;
});

test('--source flags become config sources; the CLI rejects bad ones and a missing model', async () => {
  assert.deepEqual(sourcesFromFlags(['mic', 'mic:plughw:1,0', 'file:/a b.wav', 'url:http://x/y', 'stdin'], { loop: true, fast: true }), [
    { id: 'mic', kind: 'mic' },
    { id: 'mic-2', kind: 'mic', device: 'plughw:1,0' },
    { id: 'file', kind: 'file', path: '/a b.wav', loop: true, realtime: false },
    { id: 'url', kind: 'url', url: 'http://x/y' },
    { id: 'stdin', kind: 'stdin' },
  ]);
  assert.throws(() => sourcesFromFlags(['speaker']), /unknown kind 'speaker'/);
  const bad = await runCli(['run', '--source', 'file:'], { env: { EARSHOT_CONFIG: '' } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error \[INPUT_INVALID\]: --source file:/);
  const none = await runCli(['run', '--source', 'stdin', '--model', '/nonexistent/yamnet', '--port', '0'], { env: { EARSHOT_CONFIG: '' } });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /error \[MODEL_NOT_FOUND\]: .*\/nonexistent\/yamnet/);
});

test('per-source event settings merge over config.events (labels merged key by key)', async () => {
  const { eventsFor } = await import('../../src/config/events-for.js');
  const c = cfg({ events: { onThreshold: 0.5, labels: { Speech: { onThreshold: 0.6 } } } });
  const plain = c.sources[0]!;
  assert.equal(eventsFor(plain, c), c.events);
  const own = { ...plain, events: { onThreshold: 0.8, labels: { Music: { offThreshold: 0.1 } } } };
  const e = eventsFor(own, c);
  assert.equal(e.onThreshold, 0.8);
  assert.equal(e.offThreshold, c.events.offThreshold);
  assert.deepEqual(Object.keys(e.labels).sort(), ['Music', 'Speech']);
});

test('daemon: a misspelt events.labels key (top-level or per source) stops the start with a suggestion; nothing listens', async () => {
  let disposed = 0;
  const tagger = energyTagger();
  const counting = deps({ loadTagger: async () => ({ ...tagger, dispose: async () => void disposed++ }) });
  await assert.rejects(
    startDaemon(cfg({ events: { labels: { Lowd: { onThreshold: 0.6 } } } }), counting),
    (e) => isEarshotError(e, 'CONFIG_INVALID') && /events\.labels: "Lowd" .*did you mean "Loud"\?/.test(e.message),
  );
  await assert.rejects(
    startDaemon(cfg({ sources: [{ id: 'a', kind: 'stdin', events: { labels: { Quite: { onThreshold: 0.6 } } } }] }), counting),
    (e) => isEarshotError(e, 'CONFIG_INVALID') && /did you mean "Quiet"\?/.test(e.message),
  );
  assert.equal(disposed, 2, 'the loaded taggers were freed');
  // names match case-insensitively
  const d = await startDaemon(cfg({ events: { labels: { loud: { onThreshold: 0.6 } } } }), deps());
  await d.stop();
});

test('daemon: reload logs every changed key it does not apply, with the reason', async () => {
  const lines: string[] = [];
  const src = { id: 'a', kind: 'file', path: 'a.wav', loop: true, realtime: false };
  const d = await startDaemon(
    cfg({ sources: [src] }),
    deps({ logger: captureLogger(lines).logger, openSource: () => pacedAudio(async () => ({ samples: bursts, sampleRateHz: RATE, channels: 1 }), { loop: true }) }),
  );
  d.reload(cfg({ sources: [src], events: { onThreshold: 0.7 }, server: { port: 0, token: 'new' } }));
  assert.deepEqual(
    lines.filter((l) => /not applied/.test(l)),
    [],
    'events and token apply: nothing to report',
  );
  d.reload(
    cfg({
      sources: [
        { ...src, path: 'other.wav', events: { onThreshold: 0.8 } },
        { id: 'b', kind: 'stdin' },
      ],
      server: { port: 9999, host: '0.0.0.0' },
      supervision: { restartMaxSeconds: 7 },
    }),
  );
  const notApplied = lines.filter((l) => /not applied/.test(l));
  assert.deepEqual(notApplied.map((l) => /reload: (\S+)/.exec(l)![1]).sort(), ['server.host', 'server.port', 'sources.a', 'sources.b', 'supervision.restartMaxSeconds']);
  assert.ok(
    notApplied.some((l) => /server\.port 0 -> 9999 not applied \(the listener is bound at start; restart earshot to apply it\)/.test(l)),
    notApplied.join('\n'),
  );
  assert.ok(notApplied.some((l) => /sources\.b added not applied \(sources are opened at start/.test(l)));
  assert.ok(lines.some((l) => /configuration reloaded/.test(l)));
  assert.equal(d.address.port > 0 && d.address.port !== 9999, true, 'still on the original port');
  await d.stop();
});

test('daemon operations: process metrics, per-source series from 0, state gauge, last error in /healthz, one log line per transition, exposure warning', async (t) => {
  const { NEVER, defer, throwError } = await import('rxjs');
  const { EarshotError } = await import('../../src/errors.js');
  const lines: string[] = [];
  const d = await startDaemon(
    cfg({
      server: { port: 0, host: '0.0.0.0' },
      supervision: { restartInitialSeconds: 0.01, restartMaxSeconds: 0.02 },
      sources: [
        { id: 'quiet', kind: 'stdin' },
        { id: 'gone', kind: 'mic' },
      ],
    }),
    deps({
      logger: captureLogger(lines).logger,
      openSource: (c) => liveSource(() => (c.id === 'quiet' ? NEVER : defer(() => throwError(() => new EarshotError('MIC_DEVICE_NOT_FOUND', 'arecord: no device hw:9'))))),
    }),
  );
  t.after(() => d.stop());
  assert.ok(
    lines.some((l) => /^warning: listening on 0\.0\.0\.0 without server\.token/.test(l)),
    lines.join('\n'),
  );
  const http = `http://127.0.0.1:${d.address.port}`;
  // let the failing source retry several times
  while (((await d.metrics.sourceRestarts.get()).values.find((v) => v.labels.source === 'gone')?.value ?? 0) < 4) await new Promise((r) => setTimeout(r, 20));
  const m = (await httpGet(`${http}/metrics`)).body;
  assert.match(m, /^process_cpu_user_seconds_total \d/m);
  assert.match(m, /^nodejs_eventloop_lag_seconds \d/m);
  assert.match(m, /^process_resident_memory_bytes \d/m);
  for (const c of ['earshot_audio_seconds_total', 'earshot_patches_total', 'earshot_events_total', 'earshot_patches_dropped_total', 'earshot_source_restarts_total']) {
    assert.match(m, new RegExp(`^${c}\\{source="quiet"\\} 0$`, 'm'), `${c} starts at 0`);
  }
  assert.match(m, /^earshot_source_state\{source="quiet",state="starting"\} 1$/m);
  assert.match(m, /^earshot_source_state\{source="gone",state="down"\} 1$/m);
  assert.match(m, /^earshot_source_state\{source="gone",state="up"\} 0$/m);
  const h = JSON.parse((await httpGet(`${http}/healthz`)).body) as { sources: { id: string; lastError?: { code: string; message: string; at: string } }[] };
  const gone = h.sources.find((s) => s.id === 'gone')!;
  assert.equal(gone.lastError?.code, 'MIC_DEVICE_NOT_FOUND');
  assert.match(gone.lastError!.message, /no device hw:9/);
  assert.equal(h.sources.find((s) => s.id === 'quiet')!.lastError, undefined);
  const downs = lines.filter((l) => /source gone .*: down/.test(l));
  assert.equal(downs.length, 1, `one line for the transition, not one per retry:\n${lines.join('\n')}`);
});
