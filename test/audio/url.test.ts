import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';

import wavefile from 'wavefile';

import { urlSource } from '../../src/audio/index.js';
import { isEarshotError } from '../../src/errors.js';
import { collectAll, dominantFrequency, errorOf, knownInt16, takeSamples } from './collect.js';
import { waitNoChild } from './procs.js';
import { sox, tempDir } from './tmp.js';

const { WaveFile } = wavefile;
const tmp = tempDir('url');
const ints = knownInt16(16000, 21);
let server: Server;
let base: string;
const endless = new Set<NodeJS.Timeout>();

before(async () => {
  const w = new WaveFile();
  w.fromScratch(1, 16000, '16', ints);
  writeFileSync(tmp.path('known.wav'), w.toBuffer());
  sox('-n', '-r', '44100', '-b', '16', '-c', '2', tmp.path('tone.wav'), 'synth', '1', 'sine', '440', 'vol', '0.5');
  server = createServer((req, res) => {
    if (req.url === '/known.wav' || req.url === '/tone.wav') {
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.end(readFileSync(tmp.path(req.url.slice(1))));
    } else if (req.url === '/live.wav') {
      // A never-ending stream, like a radio: header with open sizes, then silence at 10x real time
      // (ffmpeg probes ~5 s of audio before its first output).
      const w2 = new WaveFile();
      w2.fromScratch(1, 16000, '16', new Int16Array(2));
      const h = Buffer.from(w2.toBuffer());
      h.writeUInt32LE(0xffffffff, 4);
      h.writeUInt32LE(0xffffffff, 40);
      res.writeHead(200, { 'content-type': 'audio/wav' });
      res.write(h);
      const t = setInterval(() => res.write(Buffer.alloc(6400)), 20);
      endless.add(t);
      res.on('close', () => {
        clearInterval(t);
        endless.delete(t);
      });
    } else {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  for (const t of endless) clearInterval(t);
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  tmp.cleanup();
});

describe('urlSource (real ffmpeg)', () => {
  test('HTTP WAV at 16 kHz mono arrives byte-exact as x/32768 and completes', async () => {
    const { samples, chunks } = await collectAll(urlSource(`${base}/known.wav`));
    assert.equal(samples.length, ints.length);
    for (let i = 0; i < ints.length; i++) assert.equal(samples[i], ints[i]! / 32768, `sample ${i}`);
    let next = 0;
    for (const c of chunks) {
      assert.equal(c.startSample, next);
      assert.equal(c.sampleRateHz, 16000);
      next += c.samples.length;
    }
  });

  test('44.1 kHz stereo is downmixed and resampled to 16 kHz mono by ffmpeg', async () => {
    const { samples } = await collectAll(urlSource(`${base}/tone.wav`));
    assert.ok(Math.abs(samples.length - 16000) <= 16, `${samples.length} samples`);
    assert.equal(dominantFrequency(samples.subarray(2000, 14000), 16000, 380, 500), 440);
  });

  test('a local file path works too', async () => {
    const { samples } = await collectAll(urlSource(tmp.path('known.wav')));
    assert.equal(samples.length, ints.length);
    assert.equal(samples[5], ints[5]! / 32768);
  });

  test("HTTP 404 -> STREAM_FAILED with ffmpeg's last stderr line", async () => {
    const e = await errorOf(urlSource(`${base}/missing.wav`));
    assert.ok(isEarshotError(e, 'STREAM_FAILED'), String(e));
    assert.match(e.message, /404|Not Found/i);
    assert.match(e.message, /missing\.wav/);
  });

  test('connection refused -> STREAM_FAILED', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const e = await errorOf(urlSource(`http://127.0.0.1:${port}/x.wav`));
    assert.ok(isEarshotError(e, 'STREAM_FAILED'), String(e));
    assert.match(e.message, /refused/i);
  });

  test('a server that accepts but never answers -> STREAM_FAILED after the stall timeout', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as AddressInfo).port;
      const e = await errorOf(urlSource(`http://127.0.0.1:${port}/x.wav`, { stallTimeoutSeconds: 0.5 }));
      assert.ok(isEarshotError(e, 'STREAM_FAILED'), String(e));
      assert.match(e.message, /timed out/i);
    } finally {
      silent.closeAllConnections();
      await new Promise((r) => silent.close(r));
    }
  });

  test('ffmpeg missing -> STREAM_FAILED, no crash', async () => {
    const e = await errorOf(urlSource(`${base}/known.wav`, { ffmpegPath: tmp.path('no-ffmpeg') }));
    assert.ok(isEarshotError(e, 'STREAM_FAILED'), String(e));
    assert.match(e.message, /ffmpeg not found/);
  });

  test('unsubscribing from an endless stream stops ffmpeg quietly (no error, no zombie)', async () => {
    const got = await takeSamples(urlSource(`${base}/live.wav`), 320);
    assert.ok(got.samples.length >= 320);
    assert.deepEqual(await waitNoChild('ffmpeg'), []);
  });
});
