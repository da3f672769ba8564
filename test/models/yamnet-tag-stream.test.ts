import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { decodeAudioFile } from '../../src/audio/decode.js';
import { openAudioStream } from '../../src/audio/stream.js';
import { engineSchema } from '../../src/config/sections/engine.js';
import { frontendSchema } from '../../src/config/sections/frontend.js';
import { importYamnet } from '../../src/models/yamnet/import.js';
import { tagStream, tagWaveform } from '../../src/models/yamnet/tag-audio.js';
import { loadYamnetTagger } from '../../src/models/yamnet/tagger.js';
import { sharedPath } from '../helpers/shared.js';

// Issue #19 item 1: `tag` streams (bounded memory); it must give what the whole-file path gave.
let root = '';
let dir = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'earshot-tag-stream-'));
  dir = join(root, 'yamnet');
  importYamnet({ tflitePath: sharedPath('models/yamnet/yamnet.tflite'), outDir: dir });
  // Longer than one read block (65,536 frames) at 44.1 kHz stereo, odd length: blocks, resampler and padding all matter.
  execFileSync('sox', ['-n', '-r', '44100', '-c', '2', '-b', '16', join(root, 'mix.wav'), 'synth', '4.37', 'sine', '700', 'whitenoise', 'vol', '0.3']);
  execFileSync('sox', ['-n', '-r', '16000', '-c', '1', join(root, 'short.wav'), 'synth', '0.2', 'sine', '440']);
  execFileSync('sox', ['-n', '-r', '22050', '-c', '1', join(root, 'clip.flac'), 'synth', '1.3', 'sine', '300']);
  // A recording cut mid-write: the header declares more data than the file holds.
  const whole = readFileSync(join(root, 'mix.wav'));
  writeFileSync(join(root, 'cut.wav'), whole.subarray(0, whole.length - 1001));
});
after(() => rmSync(root, { recursive: true, force: true }));

async function concat(blocks: AsyncIterable<Float32Array>): Promise<{ samples: Float32Array; maxBlock: number }> {
  const parts: Float32Array[] = [];
  for await (const b of blocks) parts.push(Float32Array.from(b));
  const samples = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    samples.set(p, at);
    at += p.length;
  }
  return { samples, maxBlock: Math.max(...parts.map((p) => p.length)) };
}

for (const name of ['mix.wav', 'cut.wav', 'short.wav', 'clip.flac'])
  test(`openAudioStream blocks equal decodeAudioFile's samples (${name})`, async () => {
    const file = join(root, name);
    const whole = await decodeAudioFile(file);
    const s = await openAudioStream(file);
    assert.equal(s.sampleRateHz, whole.sampleRateHz);
    const { samples, maxBlock } = await concat(s.blocks());
    assert.ok(maxBlock <= 65536, `block of ${maxBlock} samples`);
    assert.deepEqual(samples, whole.samples);
  });

test('tagStream gives the whole-file tagWaveform result (resampled 44.1 kHz file and a padded 0.2 s clip)', async () => {
  const tagger = await loadYamnetTagger(dir, engineSchema.parse({ kind: 'onnx', threads: 1, batchSize: 8 }));
  try {
    const frontend = frontendSchema.parse({ ...frontendSchema.parse({}), ...tagger.frontend });
    for (const name of ['mix.wav', 'short.wav']) {
      const file = join(root, name);
      const whole = await decodeAudioFile(file);
      const want = await tagWaveform(tagger, whole.samples, whole.sampleRateHz, frontend);
      const s = await openAudioStream(file);
      const got = await tagStream(tagger, s.blocks(), s.sampleRateHz, frontend);
      assert.equal(got.count, want.count, name);
      assert.deepEqual(got.startSeconds, want.startSeconds);
      let d = 0;
      for (let i = 0; i < got.scores.length; i++) d = Math.max(d, Math.abs(got.scores[i]! - want.scores[i]!));
      assert.ok(d <= 1e-5, `${name}: max score difference ${d}`);
    }
  } finally {
    await tagger.dispose();
  }
});
