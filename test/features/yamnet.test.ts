import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { computeLogMelPatches } from '../../src/features/index.js';
import { sharedPath } from '../helpers/shared.js';
import { frontend, maxAbsDiff, readF32, readI16 } from './util.js';

/**
 * ../shared/models/yamnet/testdata: 15,600 int16 samples at 16 kHz and the 96x64
 * log-mel patch stored beside them. Finding (see report): that patch is NOT
 * log(mel(x / 32768) + 0.001) as YAMNet's own frontend would give; it is exactly
 * log(mel(x / max|x|) + 0.01), i.e. a peak-normalised waveform and VGGish's log
 * offset. Both facts are asserted below so a change in either side shows up.
 */
describe('YAMNet test patch', () => {
  const pcm = readI16(sharedPath('models', 'yamnet', 'testdata', 'yamnet_test_audio.bin'));
  const spectra = readF32(sharedPath('models', 'yamnet', 'testdata', 'yamnet_test_spectra.bin'));
  const yamnet = frontend({ logOffset: 0.001, patchHopSeconds: 0.48 });
  let peak = 0;
  for (const v of pcm) peak = Math.max(peak, Math.abs(v));

  test('15,600 samples give exactly one 96x64 patch with the YAMNet config', () => {
    assert.equal(pcm.length, 15600);
    assert.equal(spectra.length, 96 * 64);
    const r = computeLogMelPatches(
      Float32Array.from(pcm, (v) => v / 32768),
      16000,
      yamnet,
    );
    assert.equal(r.count, 1);
    assert.equal(r.frames, 96);
    assert.equal(r.bands, 64);
  });

  test('the stored patch is reproduced from the peak-normalised waveform with log offset 0.01', () => {
    assert.equal(peak, 8078);
    const x = Float32Array.from(pcm, (v) => v / peak);
    const r = computeLogMelPatches(x, 16000, frontend({ logOffset: 0.01, patchHopSeconds: 0.48 }));
    const d = maxAbsDiff(r.data, spectra);
    // Observed 0 (bit-identical). A float32 STFT (TF) would differ by ~1e-5 in the log
    // domain for values of this size, so 1e-4 still means "same algorithm".
    assert.ok(d <= 1e-4, `max abs diff ${d}`);
  });

  test('the YAMNet-config output (x/32768, offset 0.001) maps onto the stored patch by gain 32768/peak and offset 0.01', () => {
    const r = computeLogMelPatches(
      Float32Array.from(pcm, (v) => v / 32768),
      16000,
      yamnet,
    );
    const direct = maxAbsDiff(r.data, spectra);
    assert.ok(direct > 1, `direct comparison differs by ${direct} (documented mismatch)`);
    const gain = 32768 / peak;
    const mapped = r.data.map((v) => Math.log(gain * (Math.exp(v) - 0.001) + 0.01));
    const d = maxAbsDiff(mapped, spectra);
    // float32 rounding of the 0.001-offset logs, amplified by the exp/subtract for the
    // smallest mel energies, stays well under 1e-3.
    assert.ok(d <= 1e-3, `max abs diff after mapping ${d}`);
  });
});
