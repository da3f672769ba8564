/**
 * Worker thread that owns the history database connection: better-sqlite3 is
 * synchronous, so commits, retention and vacuum run here, never on the event loop
 * that serves the pipeline and WebSocket clients. One request at a time, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { toEarshotError } from '../errors.js';
import { SqliteHistoryStore, type SqliteStoreOptions } from './sqlite.js';
import type { WorkerReply, WorkerRequest } from './worker-client.js';

const { path, options } = workerData as { path: string; options: SqliteStoreOptions };
const port = parentPort!;
let store: SqliteHistoryStore | undefined;
let openError: unknown;
try {
  store = new SqliteHistoryStore(path, options);
} catch (e) {
  openError = e;
}

port.on('message', (req: WorkerRequest) => {
  const reply = (r: WorkerReply) => port.postMessage(r);
  const fail = (e: unknown) => {
    const err = toEarshotError(e, 'HISTORY_FAILED');
    reply({ id: req.id, ok: false, code: err.code, message: err.message });
  };
  if (!store) return fail(openError);
  const run = (() => {
    switch (req.op) {
      case 'write':
        return store.write(req.batch);
      case 'retain':
        return store.retain(req.policy);
      case 'outboxPut':
        return store.outboxPut(req.items);
      case 'outboxAck':
        return store.outboxAck(req.channel, req.keys);
      case 'outboxPending':
        return store.outboxPending(req.channel, req.limit);
      case 'close':
        return store.close();
    }
  })();
  (run as Promise<unknown>).then((value) => reply({ id: req.id, ok: true, value }), fail);
});
