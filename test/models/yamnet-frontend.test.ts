import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { frontendSchema } from '../../src/config/sections/frontend.js';
import { computeLogMelPatches, melMatrix, periodicHann } from '../../src/features/index.js';
import { tensorToFloat32 } from '../../src/models/tflite/dequantize.js';
import { parseTflite } from '../../src/models/tflite/schema.js';
import { YAMNET_FRONTEND } from '../../src/models/yamnet/import.js';
import { sharedPath } from '../helpers/shared.js';

function coralAudio(): Int16Array {
  const a = readFileSync(sharedPath('models/yamnet/testdata/yamnet_test_audio.bin'));
  const q = new Int16Array(a.length / 2);
  for (let i = 0; i < q.length; i++) q[i] = a.readInt16LE(2 * i);
  return q;
}

function coralSpectra(): Float32Array {
  const b = readFileSync(sharedPath('models/yamnet/testdata/yamnet_test_spectra.bin'));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * Measured: Coral's reference patch is the VGGish/YAMNet log-mel of the audio
 * *peak-normalised* (x / max|x|, max|x| = 8078) with log offset 0.01; our frontend
 * reproduces it bit for bit (max |diff| = 0). With YAMNet's own settings
 * (x / 32768, logOffset 0.001) the patch differs by the affine change of the mel
 * values that this implies, log(k * mel + 0.01) with k = 32768 / 8078, which holds
 * to 1.4e-5 (float32 rounding of log values around 1..5). Tolerances below are ~10x
 * the measured error; a one-frame shift or a wrong window costs > 0.4 mean.
 */
test('frontend reproduces the Coral YAMNet test patch (15,600 samples -> one 96x64 patch)', () => {
  const q = coralAudio();
  assert.equal(q.length, 15_600);
  const ref = coralSpectra();
  const peak = q.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

  const asCoral = computeLogMelPatches(Float32Array.from(q, (v) => v / peak), 16000, frontendSchema.parse({ logOffset: 0.01, patchHopSeconds: 0.48 }));
  assert.equal(asCoral.count, 1);
  let exact = 0;
  for (let i = 0; i < ref.length; i++) exact = Math.max(exact, Math.abs(asCoral.data[i]! - ref[i]!));
  assert.ok(exact <= 1e-5, `max |diff| ${exact}`);

  const yam = computeLogMelPatches(Float32Array.from(q, (v) => v / 32768), 16000, frontendSchema.parse(YAMNET_FRONTEND));
  assert.equal(yam.count, 1, '15,600 samples = 0.975 s = exactly one YAMNet patch');
  const k = 32768 / peak;
  let affine = 0;
  let raw = 0;
  for (let i = 0; i < ref.length; i++) {
    const mel = Math.exp(yam.data[i]!) - YAMNET_FRONTEND.logOffset;
    affine = Math.max(affine, Math.abs(Math.log(k * mel + 0.01) - ref[i]!));
    raw = Math.max(raw, Math.abs(yam.data[i]! - ref[i]!));
  }
  assert.ok(affine <= 2e-4, `affine relation off by ${affine}`);
  assert.ok(raw > 1, 'the reference is not the unnormalised 0.001-offset patch');
});

test("YAMNet's own in-graph frontend uses our window, mel matrix and log offset 0.001", () => {
  const m = parseTflite(new Uint8Array(readFileSync(sharedPath('models/yamnet/yamnet.tflite'))), 'yamnet.tflite');
  const g = m.subgraphs[0]!;
  const ops = g.operators;
  // Framing multiplies the 400-sample frames by the window; the mel matrix is the
  // FULLY_CONNECTED right before LOG, whose bias is the log offset.
  const windowOp = ops.find((o) => o.op === 'MUL' && g.tensors[o.inputs[1]!]!.shape.join() === '400')!;
  const win = tensorToFloat32(m, g.tensors[windowOp.inputs[1]!]!);
  const hann = periodicHann(400);
  for (let i = 0; i < 400; i++) assert.ok(Math.abs(win[i]! - hann[i]!) <= 1e-6, `window[${i}]`);

  const logOp = ops.find((o) => o.op === 'LOG')!;
  const fc = ops.find((o) => o.op === 'FULLY_CONNECTED' && o.outputs[0] === logOp.inputs[0])!;
  const wt = g.tensors[fc.inputs[1]!]!;
  assert.deepEqual(wt.shape, [64, 257]);
  const bias = tensorToFloat32(m, g.tensors[fc.inputs[2]!]!);
  for (const b of bias) assert.equal(b, Math.fround(YAMNET_FRONTEND.logOffset));
  // int8 per-band weights: rounding error is at most half a quantization step.
  const w = tensorToFloat32(m, wt);
  const mel = melMatrix({ melBands: 64, spectrogramBins: 257, sampleRateHz: 16000, lowerEdgeHz: 125, upperEdgeHz: 7500 });
  let worstSteps = 0;
  for (let band = 0; band < 64; band++) {
    const step = wt.quantization!.scale[band]!;
    for (let bin = 0; bin < 257; bin++) worstSteps = Math.max(worstSteps, Math.abs(w[band * 257 + bin]! - mel[bin * 64 + band]!) / step);
  }
  assert.ok(worstSteps <= 0.5 + 1e-4, `mel matrix differs by ${worstSteps} quantization steps`);
});
