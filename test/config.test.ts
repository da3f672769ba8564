import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { loadConfig, parseConfig } from '../src/config/load.js';
import { isEarshotError } from '../src/errors.js';
import { runCli } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

test('defaults validate and are frozen', () => {
  const c = loadConfig({ env: {} });
  assert.equal(c.frontend.sampleRateHz, 16000);
  assert.equal(c.server.host, '127.0.0.1');
  assert.equal(c.train.modelType, 'decision_level_multi_attention');
  assert.throws(() => {
    (c.server as { port: number }).port = 1;
  }, TypeError);
});

test('file < env < overrides precedence, env names are case-insensitive', () => {
  const dir = tempDir('cfg');
  const f = join(dir, 'c.yaml');
  writeFileSync(f, 'server:\n  port: 9000\n  host: 0.0.0.0\nevents:\n  onThreshold: 0.6\n');
  const c = loadConfig({ file: f, env: { EARSHOT__SERVER__PORT: '9100', EARSHOT__EVENTS__ONTHRESHOLD: '0.7' }, overrides: { server: { port: 9200 } } });
  assert.equal(c.server.port, 9200);
  assert.equal(c.server.host, '0.0.0.0');
  assert.equal(c.events.onThreshold, 0.7);
});

test('a bad value names the field and the value', () => {
  try {
    parseConfig({ server: { port: 70000 } });
    assert.fail('expected throw');
  } catch (e) {
    assert.ok(isEarshotError(e, 'CONFIG_INVALID'));
    assert.match(e.message, /server\.port/);
    assert.match(e.message, /70000/);
  }
  assert.throws(() => parseConfig({ frontend: { hopSecondz: 1 } }), /frontend/);
  assert.throws(() => parseConfig({ events: { onThreshold: 0.2, offThreshold: 0.4 } }), /offThreshold/);
  assert.throws(() => parseConfig({ sources: [{ kind: 'mic', id: 'bad id!' }] }), /sources\.0\.id/);
});

test('CLI fails at start on a bad config with a typed error', async () => {
  const dir = tempDir('cfg');
  const f = join(dir, 'bad.yaml');
  writeFileSync(f, 'frontend:\n  sampleRateHz: -5\n');
  const r = await runCli(['--config', f, 'run']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /CONFIG_INVALID.*frontend\.sampleRateHz.*-5/);
});

test('config/default.yaml documents exactly the built-in defaults', () => {
  const fromFile = loadConfig({ file: new URL('../config/default.yaml', import.meta.url).pathname, env: {} });
  assert.deepEqual(fromFile, loadConfig({ env: {} }));
});

test('per-source events block is validated and typed', () => {
  const c = parseConfig({ sources: [{ id: 'a', kind: 'file', path: '/x.wav', events: { onThreshold: 0.7, labels: { Speech: { offThreshold: 0.2 } } } }] });
  assert.equal(c.sources[0]!.events?.onThreshold, 0.7);
  assert.throws(() => parseConfig({ sources: [{ id: 'a', kind: 'file', path: '/x.wav', events: { onThreshold: 2 } }] }), /sources\.0\.events\.onThreshold.*2/);
  assert.throws(() => parseConfig({ sources: [{ id: 'a', kind: 'file', path: '/x.wav', events: { bogus: 1 } }] }), /sources\.0\.events/);
});

test('tokens are strings: an all-digit or exponent-looking env value and a YAML number stay tokens', () => {
  for (const raw of ['123', '1e3', '0123']) {
    const c = loadConfig({ env: { EARSHOT__SERVER__TOKEN: raw, EARSHOT__SERVER__METRICSTOKEN: raw } });
    assert.equal(c.server.token, raw);
    assert.equal(c.server.metricsToken, raw);
  }
  assert.equal(parseConfig({ server: { token: 123 } }).server.token, '123');
  // numeric keys still parse from env
  assert.equal(loadConfig({ env: { EARSHOT__SERVER__PORT: '9100' } }).server.port, 9100);
});

test('numeric keys have sane ranges; errors name the key and the value', () => {
  const bad: [Record<string, unknown>, string][] = [
    [{ server: { heartbeatSeconds: 3_000_000 } }, 'server.heartbeatSeconds'],
    [{ server: { heartbeatSeconds: 0.000001 } }, 'server.heartbeatSeconds'],
    [{ server: { stalledDisconnectSeconds: 1e12 } }, 'server.stalledDisconnectSeconds'],
    [{ engine: { threads: 1e9 } }, 'engine.threads'],
    [{ engine: { batchSize: 1e7 } }, 'engine.batchSize'],
    [{ supervision: { restartInitialSeconds: 60, restartMaxSeconds: 30 } }, 'supervision.restartInitialSeconds'],
    [{ sources: [{ id: 'm', kind: 'mic', sampleRateHz: 10_000_000 }] }, 'sources.0.sampleRateHz'],
    [{ server: { queueBudgetBytes: 10 } }, 'server.queueBudgetBytes'],
    [{ events: { topK: 1e6 } }, 'events.topK'],
  ];
  for (const [input, key] of bad) {
    assert.throws(
      () => parseConfig(input),
      (e: unknown) => isEarshotError(e) && e.code === 'CONFIG_INVALID' && e.message.includes(`${key}:`),
      JSON.stringify(input),
    );
  }
  assert.throws(() => loadConfig({ env: { EARSHOT__ENGINE__THREADS: '1e9' } }), /engine\.threads: .*\(got 1000000000\)/);
  assert.equal(parseConfig({ supervision: { restartInitialSeconds: 30, restartMaxSeconds: 30 } }).supervision.restartInitialSeconds, 30);
});

test('a circular YAML alias is CONFIG_INVALID naming the file', () => {
  const dir = tempDir('cfg');
  for (const [name, text] of [
    ['self.yaml', 'a: &a [*a]\n'],
    ['nested.yaml', 'server: &s\n  host: 127.0.0.1\n  x: { y: *s }\n'],
  ] as const) {
    const f = join(dir, name);
    writeFileSync(f, text);
    assert.throws(
      () => loadConfig({ file: f, env: {} }),
      (e: unknown) => isEarshotError(e) && e.code === 'CONFIG_INVALID' && e.message.includes(f) && /circular/.test(e.message),
    );
  }
});
