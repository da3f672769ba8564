/** `earshot index --workers N`: one tagger per thread; files in, tagged batches out. */
import { parentPort, workerData } from 'node:worker_threads';

import type { Config } from '../config/schema.js';
import { toEarshotError } from '../errors.js';
import { openFileTagger } from './index-tagger.js';

const { config, modelDir } = workerData as { config: Config; modelDir: string };
const port = parentPort!;
const ready = openFileTagger(config, modelDir);
port.on('message', (m: { id: number; path: string; name: string } | { close: true }) => {
  if ('close' in m) {
    void ready.then((t) => t.dispose()).finally(() => port.close());
    return;
  }
  ready
    .then((t) => t.tag(m.path, m.name))
    .then(
      (r) => port.postMessage({ id: m.id, ok: true, result: r }),
      (e: unknown) => {
        const err = toEarshotError(e, 'AUDIO_DECODE_FAILED');
        port.postMessage({ id: m.id, ok: false, code: err.code, message: err.message });
      },
    );
});
