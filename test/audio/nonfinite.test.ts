import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { after } from 'node:test';

import wavefile from 'wavefile';

import { decodeAudioFile } from '../../src/audio/index.js';
import { tempDir } from './tmp.js';

const tmp = tempDir('nonfinite');
after(() => tmp.cleanup());

test('NaN and ±Inf samples in a float WAV decode to 0 (mono and stereo), the rest untouched', async () => {
  const mono = Float64Array.from({ length: 1600 }, (_, i) => 0.25 * Math.sin(i / 5));
  mono[10] = NaN;
  mono[11] = Infinity;
  mono[12] = -Infinity;
  const w = new wavefile.WaveFile();
  w.fromScratch(1, 16000, '32f', mono as unknown as number[]);
  writeFileSync(tmp.path('mono.wav'), w.toBuffer());
  const d = await decodeAudioFile(tmp.path('mono.wav'));
  assert.ok(d.samples.every(Number.isFinite));
  assert.deepEqual([d.samples[10], d.samples[11], d.samples[12]], [0, 0, 0]);
  assert.equal(d.samples[13], Math.fround(mono[13]!));

  const left = Float64Array.from(mono);
  const right = Float64Array.from({ length: 1600 }, () => 0.5);
  const s = new wavefile.WaveFile();
  s.fromScratch(2, 16000, '32f', [left, right] as unknown as number[][]);
  writeFileSync(tmp.path('stereo.wav'), s.toBuffer());
  const st = await decodeAudioFile(tmp.path('stereo.wav'));
  assert.ok(st.samples.every(Number.isFinite));
  assert.equal(st.samples[10], 0.25, 'the bad channel counts as silence in the mix');
});
