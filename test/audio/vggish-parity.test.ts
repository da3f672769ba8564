import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { decodeAudioFile } from '../../src/audio/index.js';
import { sharedPath } from '../helpers/shared.js';

// VGGish's own input path (vggish_input.wavfile_to_examples): int16 / 32768.0, np.mean over
// channels in float64, float32 later. Computed here with Debian numpy from the same files.
const NUMPY_REFERENCE = `
import sys, wave, numpy as np
w = wave.open(sys.argv[1], 'rb')
ch = w.getnchannels()
x = np.frombuffer(w.readframes(w.getnframes()), dtype='<i2').reshape(-1, ch) / 32768.0
if ch > 1:
    x = np.mean(x, axis=1)
sys.stdout.buffer.write(np.ascontiguousarray(x.reshape(-1), dtype=np.float32).tobytes())
`;

describe('VGGish input parity on the shared golden WAVs', () => {
  const dir = sharedPath('golden', 'vggish-frontend');
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<string, { wav: string; samples: number; sample_rate: number; channels: number }>;
  for (const [name, entry] of Object.entries(index)) {
    test(`${name}: decoded samples equal numpy's bit for bit`, async () => {
      const file = join(dir, entry.wav);
      const d = await decodeAudioFile(file);
      assert.equal(d.sampleRateHz, entry.sample_rate);
      assert.equal(d.channels, entry.channels);
      assert.equal(d.samples.length, entry.samples);
      const ref = execFileSync('/usr/bin/python3', ['-c', NUMPY_REFERENCE, file], { maxBuffer: 64 << 20 });
      const want = new Float32Array(ref.buffer, ref.byteOffset, ref.length / 4);
      assert.equal(want.length, d.samples.length);
      for (let i = 0; i < want.length; i++) if (want[i] !== d.samples[i]) assert.fail(`${name} sample ${i}: ${d.samples[i]} != numpy ${want[i]}`);
    });
  }
});
