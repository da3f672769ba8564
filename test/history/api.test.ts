import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { type DaemonProcess, run, startDaemonProcess } from '../e2e/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

/** The history HTTP API on a real daemon (real YAMNet, real SQLite), with token auth. */
let root = '';
let d: DaemonProcess;
const token = 's3cret';

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'earshot-history-api-'));
  const model = join(root, 'yamnet');
  const imp = await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model]);
  assert.equal(imp.code, 0, imp.stderr);
  run('espeak-ng', ['-w', join(root, 'raw.wav'), 'One sentence of speech, then silence. Another sentence of speech.']);
  run('sox', [join(root, 'raw.wav'), '-r', '16000', '-c', '1', join(root, 'speech.wav'), 'pad', '0', '2']);
  d = await startDaemonProcess({ models: { yamnetDir: model, ontologyPath: sharedPath('data/audioset/metadata/ontology.json') }, server: { token }, history: { flushSeconds: 0.2 } }, root, {
    args: ['--source', `file:${join(root, 'speech.wav')}`, '--loop', '--fast'],
  });
});

after(async () => {
  await d?.stop();
  rmSync(root, { recursive: true, force: true });
});

async function get(path: string, auth = true): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${d.http}${path}`, auth ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

test('GET /api/events, /api/search (q and like), /api/sources; auth as the WebSocket; bad parameters are 400 naming them', async () => {
  let events: Record<string, unknown>[] = [];
  // Two full pages of two need at least four events stored.
  while (events.length < 4) {
    const r = await get('/api/events?label=speech&limit=10');
    if (r.status === 200) events = r.body.events as Record<string, unknown>[];
    await new Promise((res) => setTimeout(res, 300));
  }
  assert.equal((await get('/api/events', false)).status, 401);
  assert.ok(events.every((e) => e.source === 'file' && e.label === 'Speech' && typeof e.time === 'string'));
  // Cursor paging walks the same list, newest first, without repeats.
  const p1 = await get('/api/events?label=Speech&limit=2');
  const p2 = await get(`/api/events?label=Speech&limit=2&cursor=${String(p1.body.nextCursor)}`);
  const ids = [...(p1.body.events as { id: string }[]), ...(p2.body.events as { id: string }[])].map((e) => e.id);
  assert.equal(new Set(ids).size, ids.length);
  // The source keeps looping, so newer events may arrive between pages; the pages never overlap and go back in time.
  const seq = ids.map((id) => Number(id.slice(id.lastIndexOf(':') + 1)));
  assert.deepEqual(
    seq,
    [...seq].sort((a, b) => b - a),
  );
  assert.equal(p2.body.events && (p2.body.events as unknown[]).length, 2);

  const s = await get('/api/search?q=speech&limit=3&source=file');
  assert.equal(s.status, 200);
  assert.ok((s.body.query as { labels: { label: string }[] }).labels.some((l) => l.label === 'Speech'));
  const results = s.body.results as { source: string; label: string; score: number }[];
  assert.equal(results.length, 3);
  assert.ok(results.every((r) => r.source === 'file' && r.score >= 0.5));
  const like = await get(`/api/search?like=${encodeURIComponent(String(events[0]!.id))}&limit=3`);
  assert.equal(like.status, 200, JSON.stringify(like.body));
  assert.equal((like.body.results as unknown[]).length, 3);
  const src = await get('/api/sources');
  assert.equal((src.body.sources as { source: string }[])[0]!.source, 'file');

  for (const [path, param] of [
    ['/api/events?limit=abc', 'limit'],
    ['/api/events?since=yesterday-ish', 'since'],
    ['/api/events?cursor=xyz', 'cursor'],
    ['/api/events?colour=red', 'colour'],
    ['/api/search', 'q'],
    ['/api/search?q=dog&like=x', 'like'],
    ['/api/search?like=no-such-event', 'like'],
    ['/api/search?q=dog&minScore=2', 'minScore'],
  ] as const) {
    const r = await get(path);
    assert.equal(r.status, 400, path);
    assert.equal(r.body.param, param, `${path}: ${JSON.stringify(r.body)}`);
    assert.match(String(r.body.error), new RegExp(param === 'q' ? 'q \\(keywords\\)' : param), path);
  }
});
