import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import { PNG } from 'pngjs';

import { spectrogramPng } from '../../src/clips/spectrogram.js';

/**
 * Clip spectrogram PNGs must show the sound (a "solid purple block" was reported): on real
 * speech (espeak-ng) the plot has many colours, a wide luminance spread, speech brighter than
 * the silence after it, and the time axis carries a tick per second.
 */
const BAND_ROWS = 64 * 3;
const lum = (d: Buffer, o: number) => 0.2126 * d[o]! + 0.7152 * d[o + 1]! + 0.0722 * d[o + 2]!;

/** espeak-ng speech, resampled by sox to `rate`, then `padSeconds` of silence: raw float samples. */
function speech(dir: string, rate: number, padSeconds: number): Float32Array {
  execFileSync('espeak-ng', ['-w', join(dir, 'raw.wav'), 'The quick brown fox jumps over the lazy dog.']);
  const raw = execFileSync('sox', [join(dir, 'raw.wav'), '-r', String(rate), '-c', '1', '-b', '32', '-e', 'floating-point', '-t', 'raw', '-', 'pad', '0', String(padSeconds)]);
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

for (const rate of [16000, 44100]) {
  test(`spectrogram PNG of speech at ${rate} Hz has real contrast and a time axis`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-spectrogram-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const pad = 2;
    const samples = speech(dir, rate, pad);
    const seconds = samples.length / rate;
    const img = PNG.sync.read(await spectrogramPng({ samples, sampleRateHz: rate, marks: [] }));
    const hop = Math.round(rate * 0.01) / rate;
    assert.equal(img.height, BAND_ROWS + 12);
    assert.ok(Math.abs(img.width - seconds / hop) < 5, `width ${img.width} for ${seconds.toFixed(2)} s`);

    const colours = new Set<number>();
    const lums: number[] = [];
    const colLum = new Float64Array(img.width);
    for (let y = 0; y < BAND_ROWS; y++) {
      for (let x = 0; x < img.width; x++) {
        const o = (y * img.width + x) * 4;
        colours.add(img.data.readUInt32BE(o));
        const l = lum(img.data, o);
        lums.push(l);
        colLum[x]! += l / BAND_ROWS;
      }
    }
    lums.sort((a, b) => a - b);
    const spread = lums[Math.floor(lums.length * 0.95)]! - lums[Math.floor(lums.length * 0.05)]!;
    assert.ok(colours.size > 150, `only ${colours.size} distinct colours`);
    assert.ok(spread > 100, `luminance 5th-95th percentile spread ${spread.toFixed(1)} of 255`);
    // Speech columns (the first second) are brighter on average than the trailing silence.
    const mean = (a: number, b: number) => colLum.slice(Math.round(a / hop), Math.round(b / hop)).reduce((s, v) => s + v, 0) / Math.round((b - a) / hop);
    const speechLum = mean(0.1, 1.1);
    const silenceLum = mean(seconds - pad + 0.3, seconds - 0.1);
    assert.ok(speechLum - silenceLum > 40, `speech ${speechLum.toFixed(1)} vs silence ${silenceLum.toFixed(1)}`);

    // Time axis: a white tick in the axis strip at every whole second, black between ticks.
    const axisRow = BAND_ROWS + 2;
    const white = (x: number) => img.data[(axisRow * img.width + x) * 4] === 255;
    const ticks = [...Array(img.width).keys()].filter(white);
    assert.deepEqual(
      ticks,
      [...Array(Math.floor((img.width - 1) * hop + 1e-9) + 1).keys()].map((s) => Math.round(s / hop)),
    );
    assert.ok(ticks.length >= 3, `${ticks.length} ticks`);
  });
}
