import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';

import { createS16leDecoder, rawPcmSource } from '../../src/audio/index.js';
import { isEarshotError } from '../../src/errors.js';
import { int16Bytes } from '../helpers/alsa.js';
import { collectAll, errorOf, knownInt16 } from './collect.js';
import { tempDir } from './tmp.js';

const tmp = tempDir('raw');
after(() => tmp.cleanup());
const ints = knownInt16(257, 13);
const bytes = int16Bytes(ints);

function expectExact(got: Float32Array, n = ints.length): void {
  assert.equal(got.length, n);
  for (let i = 0; i < n; i++) assert.equal(got[i], ints[i]! / 32768, `sample ${i}`);
}

describe('s16le decoding across arbitrary byte splits', () => {
  test('every split point of a two-read stream, including mid-sample', () => {
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = createS16leDecoder();
      const a = d.push(bytes.subarray(0, cut));
      const b = d.push(bytes.subarray(cut));
      const all = new Float32Array(a.length + b.length);
      all.set(a);
      all.set(b, a.length);
      expectExact(all);
      assert.equal(d.pendingBytes, 0);
    }
  });

  test('one byte at a time', () => {
    const d = createS16leDecoder();
    const out: number[] = [];
    for (const byte of bytes) out.push(...d.push(Uint8Array.of(byte)));
    expectExact(Float32Array.from(out));
  });
});

describe('rawPcmSource', () => {
  test('odd-sized writes: samples exact, startSample contiguous, completes on end', async () => {
    const input = new PassThrough();
    const done = collectAll(rawPcmSource(input, { format: 's16le', sampleRateHz: 8000 }));
    // 1, 2, 3, ... byte writes so most reads end mid-sample.
    for (let at = 0, n = 1; at < bytes.length; at += n, n++) input.write(bytes.subarray(at, Math.min(bytes.length, at + n)));
    input.end();
    const { samples, chunks } = await done;
    expectExact(samples);
    let next = 0;
    for (const c of chunks) {
      assert.equal(c.startSample, next);
      assert.equal(c.sampleRateHz, 8000);
      next += c.samples.length;
    }
  });

  test('a dangling final byte is dropped, not turned into a sample', async () => {
    const input = new PassThrough();
    const done = collectAll(rawPcmSource(input, { format: 's16le', sampleRateHz: 16000 }));
    input.end(Buffer.concat([bytes, Buffer.of(0x7f)]));
    expectExact((await done).samples);
  });

  test('a real pipe (stdout of `cat`), as stdin would be', async () => {
    const p = tmp.path('in.raw');
    writeFileSync(p, bytes);
    const child = spawn('cat', [p], { stdio: ['ignore', 'pipe', 'inherit'] });
    expectExact((await collectAll(rawPcmSource(child.stdout, { format: 's16le', sampleRateHz: 16000 }))).samples);
  });

  test('stream errors -> STREAM_FAILED; bad options -> INPUT_INVALID', async () => {
    const input = new PassThrough();
    const e = errorOf(rawPcmSource(input, { format: 's16le', sampleRateHz: 16000 }));
    input.destroy(new Error('EIO: read failed'));
    const err = await e;
    assert.ok(isEarshotError(err, 'STREAM_FAILED'));
    assert.match(err.message, /EIO/);
    const bad = await errorOf(rawPcmSource(new PassThrough(), { format: 's16le', sampleRateHz: 0 }));
    assert.ok(isEarshotError(bad, 'INPUT_INVALID'));
  });

  test('unsubscribe detaches without destroying the caller-owned stream', async () => {
    const input = new PassThrough();
    const seen: number[] = [];
    const sub = rawPcmSource(input, { format: 's16le', sampleRateHz: 16000 }).subscribe((c) => seen.push(c.samples.length));
    input.write(bytes.subarray(0, 10));
    await new Promise((r) => setImmediate(r));
    sub.unsubscribe();
    input.write(bytes.subarray(10, 20));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(seen, [5]);
    assert.equal(input.destroyed, false);
    assert.equal(input.listenerCount('data'), 0);
  });
});
