import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { ErrorCode } from '../../src/errors.js';
import { parseClientMessage } from '../../src/server/protocol.js';
import { resolveSubscription } from '../../src/server/subscription.js';
import { labels, ontology, startTestServer } from '../server/fixture.js';
import { TestClient } from '../server/wsclient.js';
import { FUZZ_CASES, mutateBytes, mutateValue } from './cases.js';
import { runCase, tally } from './guard.js';

/**
 * WebSocket client messages under seeded mutation: leaf edits of every valid message kind and byte
 * mutations of their JSON. In process, parse + subscription resolution end in a value or
 * PROTOCOL_ERROR; over a real connection, every frame gets exactly one reply (an `error` for the bad
 * ones) and the server keeps serving.
 */
const VALID: readonly unknown[] = [
  { type: 'subscribe', sources: ['a'], labels: ['Speech', '/m/04rlf', 'Animal'], minScore: 0.2, topK: 3, kinds: ['scores', 'events'], since: 0 },
  { type: 'subscribe', labels: ['Dog'], kinds: ['events', 'status'], since: 'a:0:1' },
  { type: 'unsubscribe' },
  { type: 'ping', id: 42 },
  { type: 'stats' },
  { type: 'labels' },
];

function fuzzText(seed: number): string {
  const m = VALID[seed % VALID.length];
  return seed % 2 ? JSON.stringify(mutateValue(m, seed)) : Buffer.from(mutateBytes(Buffer.from(JSON.stringify(m)), seed)).toString('utf8');
}

test(`protocol messages in process: ${FUZZ_CASES} cases parse and resolve to a value or PROTOCOL_ERROR`, async () => {
  const bySource = new Map([
    ['a', labels],
    ['b', labels],
  ]);
  const outcomes: Record<string, number> = {};
  const base = process.memoryUsage().rss;
  for (let seed = 1; seed <= FUZZ_CASES; seed++) {
    const text = fuzzText(seed);
    tally(
      outcomes,
      await runCase(`seed ${seed}: ${text.slice(0, 120)}`, new Set<ErrorCode>(['PROTOCOL_ERROR']), base, () => {
        const msg = parseClientMessage(text);
        if (msg.type === 'subscribe') resolveSubscription(msg, bySource, ontology, 5);
      }),
    );
  }
  assert.ok((outcomes.PROTOCOL_ERROR ?? 0) > 0 && (outcomes.ok ?? 0) > 0, JSON.stringify(outcomes));
  console.log(`protocol fuzz (in process): ${JSON.stringify(outcomes)}`);
});

test(`protocol messages over a real connection: ${FUZZ_CASES} frames, one reply each, server keeps serving`, async (t) => {
  const { server, url } = await startTestServer({ clientQueueMessages: 4096, stalledDisconnectSeconds: 600 });
  t.after(() => server.close());
  const c = await TestClient.connect(url);
  t.after(() => c.close());
  await c.waitFor((m) => m.type === 'hello');
  const before = c.messages.length;
  for (let seed = 1; seed <= FUZZ_CASES; seed++) {
    c.send(fuzzText(seed));
    // in batches, so a slow reader is never what is being measured
    if (seed % 200 === 0) await c.waitFor(() => c.messages.length - before >= seed, 30_000, c.messages.length - 1);
  }
  const last = await c.request({ type: 'ping', id: 'end' }, 'pong');
  assert.equal(last.id, 'end');
  const replies = c.messages.slice(before, -1);
  assert.equal(replies.length, FUZZ_CASES, 'one reply per frame');
  const kinds: Record<string, number> = {};
  for (const m of replies) kinds[m.type] = (kinds[m.type] ?? 0) + 1;
  assert.ok((kinds.error ?? 0) > 0, JSON.stringify(kinds));
  for (const m of replies.filter((r) => r.type === 'error')) assert.equal(m.code, 'PROTOCOL_ERROR', JSON.stringify(m));
  console.log(`protocol fuzz (WebSocket): ${JSON.stringify(kinds)}`);
});

test(`HTTP requests: ${FUZZ_CASES} mutated paths, queries and auth headers get a typed answer, never a 500 or a hang`, async (t) => {
  const { server, http } = await startTestServer({ token: 'tok' });
  t.after(() => server.close());
  const seeds = ['/healthz', '/metrics', '/api/labels', '/healthz?token=tok', '/api/labels?token=tok&x=%zz', '/clips/a_0_1.flac', '/../../etc/passwd'];
  const statuses: Record<string, number> = {};
  for (let seed = 1; seed <= FUZZ_CASES; seed++) {
    const raw = Buffer.from(mutateBytes(Buffer.from(seeds[seed % seeds.length]!), seed)).toString('latin1');
    // what an HTTP client can put on the request line: printable, no spaces or '#'
    const path = '/' + raw.replace(/^\/+/, '').replace(/[^\x21-\x7e]|#/g, (c) => encodeURIComponent(c).replace(/%/g, '%25'));
    const headers: Record<string, string> = seed % 3 === 0 ? { authorization: ['Bearer tok', 'bearer tok', 'Bearer', 'Basic dG9r', 'Bearer tok tok'][seed % 5]! } : {};
    const res = await fetch(`${http}${path}`, { headers, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    assert.ok([200, 401, 404, 503].includes(res.status), `${path}: HTTP ${res.status}`);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  }
  assert.equal((await fetch(`${http}/api/labels`, { headers: { authorization: 'Bearer tok' } })).status, 200, 'still serving');
  console.log(`HTTP fuzz: ${JSON.stringify(statuses)}`);
});
