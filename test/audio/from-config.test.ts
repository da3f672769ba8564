import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';

import { VirtualTimeScheduler } from 'rxjs';
import wavefile from 'wavefile';

import { sourceFromConfig } from '../../src/audio/index.js';
import { sourceSchema } from '../../src/config/sections/sources.js';
import { isEarshotError } from '../../src/errors.js';
import { int16Bytes } from '../helpers/alsa.js';
import { collectAll, errorOf, knownInt16 } from './collect.js';
import { tempDir } from './tmp.js';

const { WaveFile } = wavefile;
const tmp = tempDir('cfg');
after(() => tmp.cleanup());
const ints = knownInt16(4000, 17);

describe('sourceFromConfig', () => {
  test('stdin config -> rawPcmSource on the injected stream; without one -> INPUT_INVALID', async () => {
    const cfg = sourceSchema.parse({ id: 'in', kind: 'stdin', sampleRateHz: 8000 });
    const input = new PassThrough();
    const done = collectAll(sourceFromConfig(cfg, { stdin: input }));
    input.end(int16Bytes(ints));
    const { samples, chunks } = await done;
    assert.deepEqual(
      samples,
      Float32Array.from(ints, (x) => x / 32768),
    );
    assert.equal(chunks[0]!.sampleRateHz, 8000);
    assert.ok(isEarshotError(await errorOf(sourceFromConfig(cfg)), 'INPUT_INVALID'));
  });

  test('file config (realtime by default) paces 0.1 s chunks on the injected scheduler', async () => {
    const p = tmp.path('cfg.wav');
    const w = new WaveFile();
    w.fromScratch(1, 16000, '16', ints);
    writeFileSync(p, w.toBuffer());
    const scheduler = new VirtualTimeScheduler(undefined, Number.POSITIVE_INFINITY);
    const cfg = sourceSchema.parse({ id: 'f', kind: 'file', path: p });
    const seen: [number, number][] = [];
    let done = false;
    let failed: unknown;
    sourceFromConfig(cfg, { scheduler }).subscribe({
      next: (c) => seen.push([scheduler.now(), c.startSample]),
      error: (e: unknown) => ((failed = e), (done = true)),
      complete: () => (done = true),
    });
    // Decoding is async and real; once it has scheduled the chunks, virtual time drives them.
    while (!done) {
      scheduler.flush();
      await new Promise((r) => setImmediate(r));
    }
    assert.equal(failed, undefined);
    assert.deepEqual(seen, [
      [0, 0],
      [100, 1600],
      [200, 3200],
    ]);
  });
});
