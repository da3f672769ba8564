import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { stringify } from 'yaml';

import type { LabelInfo } from '../../src/classify/contracts.js';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { overridesPathFor } from '../../src/config/overrides.js';
import type { Config } from '../../src/config/schema.js';
import { resolveThresholds } from '../../src/events/thresholds.js';
import { maskSecrets, settingsRoute } from '../../src/web/settings.js';

const dir = mkdtempSync(join(tmpdir(), 'earshot-settings-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const labels: LabelInfo[] = ['Speech', 'Dog', 'Music', 'Bark'].map((name, index) => ({ index, id: `/m/${name.toLowerCase()}`, name }));

test('maskSecrets hides tokens, passwords and URL credentials, keeps the rest', () => {
  const m = maskSecrets({
    server: { token: 's3cret', metricsToken: '', port: 1 },
    mqtt: { url: 'mqtt://bob:pw@broker:1883', password: 'x' },
    webhooks: [{ url: 'https://h/x', secret: 'k' }],
  }) as Record<string, Record<string, unknown>>;
  assert.deepEqual(m.server, { token: '********', metricsToken: '', port: 1 });
  assert.deepEqual(m.mqtt, { url: 'mqtt://bob:********@broker:1883', password: '********' });
  assert.deepEqual(m.webhooks, [{ url: 'https://h/x', secret: '********' }]);
});

test('events.include/exclude: filtered-out labels never reach the on threshold; unknown names are CONFIG_INVALID', () => {
  const t = resolveThresholds(parseConfig({ events: { include: ['Speech', 'Dog'], exclude: ['dog'] } }).events, labels);
  assert.deepEqual([...t.on], [0.5, Infinity, Infinity, Infinity]);
  assert.throws(() => resolveThresholds(parseConfig({ events: { exclude: ['Dgo'] } }).events, labels), /events.exclude: "Dgo".*Dog/);
});

test('the overrides file next to the config is laid over it (per source by id) on load', () => {
  const file = join(dir, 'earshot.yaml');
  writeFileSync(file, stringify({ events: { labels: { Speech: { onThreshold: 0.6, offThreshold: 0.2 } } }, sources: [{ id: 'door', kind: 'file', path: '/x.wav' }] }));
  assert.equal(overridesPathFor(file), join(dir, 'earshot.overrides.yaml'));
  writeFileSync(overridesPathFor(file), stringify({ events: { labels: { Speech: { onThreshold: 0.9 } } }, sources: { door: { exclude: ['Music'] }, gone: { include: ['Dog'] } } }));
  const c = loadConfig({ file, env: {} });
  assert.deepEqual(c.events.labels.Speech, { onThreshold: 0.9, offThreshold: 0.2 });
  assert.deepEqual(c.sources[0]!.events?.exclude, ['Music']);
  // env still wins over the overrides
  assert.equal(loadConfig({ file, env: { EARSHOT__EVENTS__ONTHRESHOLD: '0.7' } }).events.onThreshold, 0.7);
  writeFileSync(overridesPathFor(file), 'events: {labels: {Speech: {onThreshold: 2}}}');
  assert.throws(() => loadConfig({ file, env: {} }), /overrides file .*onThreshold/);
  rmSync(overridesPathFor(file));
});

async function serve(handler: ReturnType<typeof settingsRoute>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/settings` };
}

test('PUT /api/settings persists, applies through reload, and a bad label changes nothing (400, file restored)', async () => {
  const file = join(dir, 'live.yaml');
  writeFileSync(file, stringify({ server: { token: 'tok' }, sources: [{ id: 'door', kind: 'file', path: '/x.wav' }] }));
  let running: Config = loadConfig({ file, env: {} });
  const applied: Config[] = [];
  const route = settingsRoute({
    config: () => running,
    labelsBySource: () => new Map([['door', labels]]),
    // the daemon's reload validates every source's thresholds first
    reload: (next) => {
      resolveThresholds(next.events, labels);
      for (const s of next.sources) if (s.events) resolveThresholds({ ...next.events, ...s.events }, labels);
      running = next;
      applied.push(next);
    },
    overridesPath: overridesPathFor(file),
    reread: () => loadConfig({ file, env: {} }),
  });
  const { server, url } = await serve(route);
  try {
    const put = (body: unknown) => fetch(url, { method: 'PUT', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const ok = await put({ events: { labels: { Dog: { onThreshold: 0.2, offThreshold: 0.1 } } }, sources: { door: { include: ['Dog', 'Bark'] } } });
    assert.equal(ok.status, 200);
    assert.equal(applied.length, 1);
    assert.deepEqual(running.events.labels.Dog, { onThreshold: 0.2, offThreshold: 0.1 });
    assert.deepEqual(running.sources[0]!.events?.include, ['Dog', 'Bark']);
    const persisted = readFileSync(overridesPathFor(file), 'utf8');
    assert.match(persisted, /Dog/);

    const bad = await put({ events: { labels: { Dgo: { onThreshold: 0.2 } } } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /"Dgo".*Dog/);
    assert.equal(readFileSync(overridesPathFor(file), 'utf8'), persisted);
    assert.equal(applied.length, 1);

    assert.equal((await put({ events: { labels: { Dog: { onThreshold: 3 } } } })).status, 400);
    assert.equal((await fetch(url, { method: 'PUT', body: '{nope' })).status, 400);

    const got = (await (await fetch(url)).json()) as { config: { server: { token: string } }; overrides: unknown; editable: boolean };
    assert.equal(got.config.server.token, '********');
    assert.equal(got.editable, true);
    assert.deepEqual(got.overrides, { events: { labels: { Dog: { onThreshold: 0.2, offThreshold: 0.1 } } }, sources: { door: { include: ['Dog', 'Bark'] } } });
  } finally {
    server.close();
  }
});

test('without a config file the settings are read-only (409) and nothing is written', async () => {
  const { server, url } = await serve(settingsRoute({ config: () => parseConfig({}), labelsBySource: () => new Map(), reload: () => assert.fail('no reload') }));
  try {
    const r = await fetch(url, { method: 'PUT', body: '{}' });
    assert.equal(r.status, 409);
    assert.equal(((await (await fetch(url)).json()) as { editable: boolean }).editable, false);
    assert.ok(!existsSync(join(dir, 'undefined')));
  } finally {
    server.close();
  }
});
