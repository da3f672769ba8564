import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import { Registry } from 'prom-client';
import { asyncScheduler } from 'rxjs';

import { loadConfig } from '../../src/config/load.js';
import type { SegmentRecord } from '../../src/history/contracts.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { startRecording } from '../../src/pipeline/history-tap.js';
import { runCli } from '../helpers/cli.js';

/**
 * models.ontologyPath: '' (the default) = the shipped ontology, so "dog" covers its branch
 * (Bark, Howl) in the daemon's /api/search + /api/events and in `earshot search|events`;
 * 'none' = no ontology: nothing crashes and queries match label names.
 */
const DOG = { labelId: '/m/0bt9lr', label: 'Dog' };
const BARK = { labelId: '/m/05tny_', label: 'Bark' };
const HOWL = { labelId: '/m/07qf0zm', label: 'Howl' };
const SPEECH = { labelId: '/m/09x0r', label: 'Speech' };

const seg = (name: string, t: number, top: { labelId: string; label: string; score: number }[]): SegmentRecord => ({
  stream: { kind: 'source', name },
  startSeconds: t,
  endSeconds: t + 0.96,
  wallMs: 1_000_000 + t * 1000,
  model: 'yamnet',
  top,
});

async function makeDb(t: { after: (fn: () => void) => void }): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-ontology-default-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'history.sqlite');
  const store = new SqliteHistoryStore(path);
  await store.write({
    segments: [seg('yard', 0, [{ ...BARK, score: 0.8 }]), seg('yard', 1, [{ ...HOWL, score: 0.7 }]), seg('yard', 2, [{ ...DOG, score: 0.6 }]), seg('yard', 3, [{ ...SPEECH, score: 0.9 }])],
    events: [
      {
        id: 'r/yard:0:1',
        stream: { kind: 'source', name: 'yard' },
        label: 'Bark',
        labelId: BARK.labelId,
        startSeconds: 0,
        endSeconds: 1,
        peakScore: 0.8,
        meanScore: 0.7,
        model: 'yamnet',
        wallStartMs: 1_000_000,
      },
    ],
  });
  await store.close();
  return path;
}

/** The daemon's history routes (startRecording: the code path that reads the config) on 127.0.0.1. */
async function serveHistory(t: { after: (fn: () => Promise<void>) => void }, path: string, ontologyPath: string): Promise<(p: string) => Promise<{ status: number; body: Record<string, unknown> }>> {
  const config = loadConfig({ env: {}, overrides: { models: { ontologyPath } } });
  const rec = startRecording(config, { path }, new Registry(), asyncScheduler, () => {});
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    void rec.routes.get(url.pathname)!(req, res, url);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(async () => {
    await new Promise((r) => server.close(r));
    await rec.stop();
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return async (p) => {
    const r = await fetch(base + p);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
}

const labelsOf = (body: Record<string, unknown>) => (body.results as { label: string }[]).map((h) => h.label).sort();

test('default ontologyPath: /api/search and /api/events resolve an ontology branch keyword', async (t) => {
  const get = await serveHistory(t, await makeDb(t), '');
  const s = await get('/api/search?q=dog');
  assert.equal(s.status, 200, JSON.stringify(s.body));
  assert.deepEqual(labelsOf(s.body), ['Bark', 'Dog', 'Howl']);
  const resolved = (s.body.query as { labels: { label: string }[] }).labels.map((l) => l.label);
  assert.ok(resolved.includes('Bark') && resolved.includes('Howl'), resolved.join());
  const e = await get('/api/events?label=dog');
  assert.deepEqual(
    (e.body.events as { label: string }[]).map((x) => x.label),
    ['Bark'],
  );
});

test('ontologyPath none: the daemon starts and queries fall back to label names', async (t) => {
  const get = await serveHistory(t, await makeDb(t), 'none');
  const dog = await get('/api/search?q=dog');
  assert.equal(dog.status, 200, JSON.stringify(dog.body));
  assert.deepEqual(labelsOf(dog.body), ['Dog']);
  assert.deepEqual(labelsOf((await get('/api/search?q=bark')).body), ['Bark']);
  assert.deepEqual(((await get('/api/events?label=Bark')).body.events as unknown[]).length, 1);
  assert.deepEqual(((await get('/api/events?label=dog')).body.events as unknown[]).length, 0);
});

test('earshot search/events: branch keywords by default, label names with ontologyPath none', async (t) => {
  const db = await makeDb(t);
  const noConfig = { EARSHOT_CONFIG: '', EARSHOT__MODELS__ONTOLOGYPATH: '' };
  const s = await runCli(['search', 'dog', '--db', db, '--json'], { env: noConfig });
  assert.equal(s.code, 0, s.stderr);
  const hits = s.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type?: string; label?: string })
    .filter((h) => h.type !== 'query');
  assert.deepEqual(hits.map((h) => h.label).sort(), ['Bark', 'Dog', 'Howl']);
  const ev = await runCli(['events', '--label', 'dog', '--db', db, '--json'], { env: noConfig });
  assert.equal(ev.code, 0, ev.stderr);
  assert.match(ev.stdout, /"label":"Bark"/);

  const none = { ...noConfig, EARSHOT__MODELS__ONTOLOGYPATH: 'none' };
  const n = await runCli(['search', 'bark', '--db', db], { env: none });
  assert.equal(n.code, 0, n.stderr);
  assert.match(n.stdout, /Bark/);
  assert.doesNotMatch(n.stdout, /Howl/);
  assert.match(n.stderr, /label names only/);
});
