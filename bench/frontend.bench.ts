// Frontend throughput: log-mel frames/s (earshot vs a numpy peer of the same algorithm,
// both single-threaded float64) and resampler throughput (seconds of audio per second).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { frontendSchema } from '../src/config/sections/frontend.js';
import { createLogMelFrontend, createStreamingPatcher, frameCount, resample } from '../src/features/index.js';

const cfg = frontendSchema.parse({});
const REPEATS = 15;

function signal(n: number, sr: number): Float64Array {
  const x = new Float64Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = 0.3 * Math.sin((2 * Math.PI * 440 * i) / sr) + 0.2 * (s / 2 ** 32 - 0.5);
  }
  return x;
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeIt(fn: () => void, repeats: number): number[] {
  fn();
  const out: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return out;
}

function logMelBench(x: Float64Array): { frames: number; seconds: number[]; out: Float32Array } {
  const fe = createLogMelFrontend(cfg);
  const frames = frameCount(x.length, fe.windowSamples, fe.hopSamples);
  const out = new Float32Array(frames * fe.bands);
  const seconds = timeIt(() => fe.computeFrames(x, 0, frames, out, 0), REPEATS);
  return { frames, seconds, out };
}

function numpyBench(x: Float64Array): { frames: number; seconds: number[]; out: Float32Array; numpy: string } {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-'));
  try {
    const sig = join(dir, 'x.f64');
    const outPath = join(dir, 'out.f32');
    writeFileSync(sig, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    const script = fileURLToPath(new URL('./py/frontend_numpy.py', import.meta.url));
    // Single-threaded like the JS side (BLAS would otherwise use both cores for the dot).
    const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
    const r = spawnSync('/usr/bin/python3', [script, sig, outPath, String(REPEATS)], { encoding: 'utf8', env });
    if (r.status !== 0) throw new Error(`frontend_numpy.py failed (${r.status}): ${r.stderr}`);
    const res = JSON.parse(r.stdout) as { frames: number; seconds: number[]; numpy: string };
    const b = readFileSync(outPath);
    return { ...res, out: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function resampleBench(srIn: number, audioSeconds: number): number {
  const x = signal(srIn * audioSeconds, srIn);
  const s = median(timeIt(() => void resample(x, srIn, 16000), 3));
  return audioSeconds / s;
}

function streamingBench(srIn: number, audioSeconds: number): number {
  const x = Float32Array.from(signal(srIn * audioSeconds, srIn));
  const chunk = Math.round(srIn / 10);
  const s = median(
    timeIt(() => {
      const p = createStreamingPatcher(cfg);
      for (let at = 0; at < x.length; at += chunk) p.push({ samples: x.subarray(at, at + chunk), sampleRateHz: srIn, startSample: at });
      p.end();
    }, 3),
  );
  return audioSeconds / s;
}

export async function run(): Promise<Record<string, unknown>> {
  const x = signal(16000 * 60, 16000);
  const ours = logMelBench(x);
  const np = numpyBench(x);
  let maxAbsDiff = 0;
  for (let i = 0; i < ours.out.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours.out[i]! - np.out[i]!));
  const oursFps = ours.frames / median(ours.seconds);
  const npFps = np.frames / median(np.seconds);
  return {
    note: 'single-threaded; 2-core machine shared with other jobs: numbers are noisy',
    logMelFrames: ours.frames,
    earshotFramesPerSecond: Math.round(oursFps),
    earshotBestFramesPerSecond: Math.round(ours.frames / Math.min(...ours.seconds)),
    numpyFramesPerSecond: Math.round(npFps),
    numpyBestFramesPerSecond: Math.round(np.frames / Math.min(...np.seconds)),
    numpyVersion: np.numpy,
    ratioEarshotOverNumpy: Number((oursFps / npFps).toFixed(2)),
    maxAbsDiffVsNumpy: maxAbsDiff,
    resample44k1To16kAudioSecondsPerSecond: Math.round(resampleBench(44100, 10)),
    resample48kTo16kAudioSecondsPerSecond: Math.round(resampleBench(48000, 10)),
    resample22k05To16kAudioSecondsPerSecond: Math.round(resampleBench(22050, 10)),
    resample8kTo16kAudioSecondsPerSecond: Math.round(resampleBench(8000, 10)),
    streamingPatches44k1AudioSecondsPerSecond: Math.round(streamingBench(44100, 10)),
    streamingPatches16kAudioSecondsPerSecond: Math.round(streamingBench(16000, 30)),
  };
}
