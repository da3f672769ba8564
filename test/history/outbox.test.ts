import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { SCHEMA_VERSION } from '../../src/history/sqlite-schema.js';
import { WorkerSink } from '../../src/history/worker-client.js';

test('outbox: put is idempotent per channel and key, pending is oldest first per channel, ack deletes, contents survive reopening through the writer thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-outbox-'));
  try {
    const path = join(dir, 'h.sqlite');
    const sink = new WorkerSink(path);
    await sink.outboxPut([
      { channel: 'webhook a', key: 'e1#start', payload: '{"n":1}' },
      { channel: 'webhook b', key: 'e1#start', payload: '{"n":1}' },
      { channel: 'webhook a', key: 'e1#end', payload: '{"n":2}' },
    ]);
    await sink.outboxPut([{ channel: 'webhook a', key: 'e1#start', payload: '{"n":"again"}' }]);
    await sink.outboxAck('webhook b', ['e1#start']);
    await sink.close();
    const store = new SqliteHistoryStore(path);
    assert.deepEqual(await store.outboxPending('webhook a', 10), [
      { channel: 'webhook a', key: 'e1#start', payload: '{"n":1}' },
      { channel: 'webhook a', key: 'e1#end', payload: '{"n":2}' },
    ]);
    assert.deepEqual(await store.outboxPending('webhook b', 10), []);
    await store.outboxAck('webhook a', ['e1#start']);
    assert.deepEqual(
      (await store.outboxPending('webhook a', 10)).map((i) => i.key),
      ['e1#end'],
    );
    const v = store.handle.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number };
    // The outbox migration (3) is applied; later migrations may follow it.
    assert.ok(v.v >= 3 && v.v === SCHEMA_VERSION, `schema version ${v.v}`);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
