import { PNG } from 'pngjs';

import { frontendSchema } from '../config/sections/frontend.js';
import { createLogMelFrontend, frameCount } from '../features/logmel.js';

export interface SpectrogramSpec {
  readonly samples: Float32Array;
  readonly sampleRateHz: number;
  /** Seconds from the clip's start to mark (the event's onset and end), drawn as vertical lines. */
  readonly marks: readonly number[];
}

/** Five-stop viridis, interpolated: low = dark blue, high = yellow. */
const STOPS: readonly (readonly [number, number, number])[] = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

function colour(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, v)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i]!;
  const b = STOPS[i + 1]!;
  return [Math.round(a[0] + (b[0] - a[0]) * f), Math.round(a[1] + (b[1] - a[1]) * f), Math.round(a[2] + (b[2] - a[2]) * f)];
}

const BAND_PX = 3;
const AXIS_PX = 12;

/** Frames computed per slice before yielding to the event loop (about a millisecond of work). */
const FRAMES_PER_SLICE = 64;

const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * The clip's log-mel (the VGGish frontend's settings at the clip's own rate: 25 ms
 * windows every 10 ms, 64 bands) as a PNG: one column per frame, low bands at the
 * bottom, colour scaled between the clip's 2nd and 99.5th percentile; a bottom axis
 * with a tick every second (tall every 5 s) and white lines at the event's marks.
 */
export async function spectrogramPng(spec: SpectrogramSpec): Promise<Buffer> {
  const fe = frontendSchema.parse({ sampleRateHz: spec.sampleRateHz, melMaxHz: Math.min(7500, spec.sampleRateHz / 2 - 1) });
  const lm = createLogMelFrontend(fe);
  const frames = Math.max(1, frameCount(spec.samples.length, lm.windowSamples, lm.hopSamples));
  const mel = new Float32Array(frames * lm.bands).fill(Math.log(fe.logOffset));
  if (spec.samples.length >= lm.windowSamples) {
    // Sliced so a long clip never holds the live path for more than a slice.
    const x = Float64Array.from(spec.samples);
    for (let f = 0; f < frames; f += FRAMES_PER_SLICE) {
      lm.computeFrames(x, f * lm.hopSamples, Math.min(FRAMES_PER_SLICE, frames - f), mel, f * lm.bands);
      await yieldLoop();
    }
  }
  const sorted = Float32Array.from(mel).sort();
  const lo = sorted[Math.floor(sorted.length * 0.02)]!;
  const hi = Math.max(lo + 1e-3, sorted[Math.floor((sorted.length - 1) * 0.995)]!);

  const width = frames;
  const plot = lm.bands * BAND_PX;
  const png = new PNG({ width, height: plot + AXIS_PX });
  const put = (x: number, y: number, [r, g, b]: [number, number, number]) => {
    const o = (y * width + x) * 4;
    png.data[o] = r;
    png.data[o + 1] = g;
    png.data[o + 2] = b;
    png.data[o + 3] = 255;
  };
  for (let x = 0; x < width; x++) {
    for (let band = 0; band < lm.bands; band++) {
      const c = colour((mel[x * lm.bands + band]! - lo) / (hi - lo));
      for (let k = 0; k < BAND_PX; k++) put(x, plot - 1 - (band * BAND_PX + k), c);
    }
    for (let y = plot; y < plot + AXIS_PX; y++) put(x, y, [0, 0, 0]);
  }
  const hopSeconds = lm.hopSamples / spec.sampleRateHz;
  const col = (s: number) => Math.round(s / hopSeconds);
  for (let s = 0; col(s) < width; s++) {
    const len = s % 5 === 0 ? AXIS_PX : AXIS_PX / 2;
    for (let y = plot; y < plot + len; y++) put(col(s), y, [255, 255, 255]);
  }
  for (const m of spec.marks) {
    const x = col(m);
    if (x >= 0 && x < width) for (let y = 0; y < plot; y += 2) put(x, y, [255, 255, 255]);
  }
  // pack() deflates on the libuv thread pool, not on the event loop.
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    png
      .pack()
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', resolve)
      .on('error', reject);
  });
  return Buffer.concat(chunks);
}
