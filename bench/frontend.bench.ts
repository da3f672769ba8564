// Frontend throughput: log-mel frames/s (earshot vs a numpy peer of the same algorithm,
// both single-threaded float64), resampler throughput per engine (seconds of audio per
// second) and the whole-file frontend of a 44.1 kHz stereo file (decode + resample + log-mel).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { decodeAudioFile } from '../src/audio/decode.js';
import { frontendSchema } from '../src/config/sections/frontend.js';
import { computeLogMelPatches, createLogMelFrontend, createStreamingPatcher, frameCount, resample, resampleEngine } from '../src/features/index.js';

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

interface Timing {
  wall: number[];
  cpu: number[];
}

/** Wall and user-CPU seconds per run: on a shared machine CPU time is the steadier figure. */
function timeIt(fn: () => void, repeats: number): Timing {
  fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const c0 = process.cpuUsage().user;
    const t0 = process.hrtime.bigint();
    fn();
    wall.push(Number(process.hrtime.bigint() - t0) / 1e9);
    cpu.push((process.cpuUsage().user - c0) / 1e6);
  }
  return { wall, cpu };
}

function logMelBench(x: Float64Array, engine: 'auto' | 'js'): { frames: number; t: Timing; out: Float32Array; engine: string } {
  const fe = createLogMelFrontend(cfg, { engine });
  const frames = frameCount(x.length, fe.windowSamples, fe.hopSamples);
  const out = new Float32Array(frames * fe.bands);
  const t = timeIt(() => fe.computeFrames(x, 0, frames, out, 0), REPEATS);
  return { frames, t, out, engine: fe.engine };
}

function numpyBench(x: Float64Array): { frames: number; t: Timing; out: Float32Array; numpy: string } {
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
    const res = JSON.parse(r.stdout) as { frames: number; seconds: number[]; cpuSeconds: number[]; numpy: string };
    const b = readFileSync(outPath);
    return {
      frames: res.frames,
      numpy: res.numpy,
      t: { wall: res.seconds, cpu: res.cpuSeconds },
      out: new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rate(amount: number, t: Timing): { wall: number; cpu: number } {
  return { wall: Math.round(amount / median(t.wall)), cpu: Math.round(amount / median(t.cpu)) };
}

/** Rate pairs earshot meets: common file rates to 16 kHz, and to 32 kHz for EfficientAT. */
const RESAMPLE_PAIRS: [number, number][] = [
  [44100, 16000],
  [48000, 16000],
  [22050, 16000],
  [8000, 16000],
  [32000, 16000],
  [16000, 32000],
  [44100, 32000],
];

function resampleBench(srIn: number, srOut: number, audioSeconds: number) {
  const x = signal(srIn * audioSeconds, srIn);
  const engine = resampleEngine(srIn, srOut);
  const fast = rate(
    audioSeconds,
    timeIt(() => void resample(x, srIn, srOut), 5),
  );
  const js = rate(
    audioSeconds,
    timeIt(() => void resample(x, srIn, srOut, { engine: 'js' }), 3),
  );
  return { engine, default: fast, typeScript: js, speedupCpu: Number((fast.cpu / js.cpu).toFixed(1)) };
}

/**
 * The whole-file frontend of `earshot tag` / `earshot index` on a 60 s 44.1 kHz stereo WAV:
 * decode (with downmix), resample to 16 kHz, log-mel patches; per engine of the resampler.
 */
function synthWav(path: string, rateHz: number, channels: number, seconds: number): void {
  const r = spawnSync(
    'sox',
    ['-n', '-r', String(rateHz), '-c', String(channels), '-b', '16', path, 'synth', String(seconds), 'sine', '440', 'pinknoise', 'remix', '-', 'vol', '0.3', 'channels', String(channels)],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`sox failed: ${r.stderr}`);
}

async function fileFrontendBench(seconds: number) {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-'));
  try {
    const file = join(dir, 'stereo44k.wav');
    synthWav(file, 44100, 2, seconds);
    const stage = { decode: [] as number[], resample: [] as number[], resampleTs: [] as number[], logMel: [] as number[] };
    for (let i = 0; i < 4; i++) {
      const c0 = process.cpuUsage().user;
      const audio = await decodeAudioFile(file);
      const c1 = process.cpuUsage().user;
      const x = resample(audio.samples, audio.sampleRateHz, cfg.sampleRateHz);
      const c2 = process.cpuUsage().user;
      resample(audio.samples, audio.sampleRateHz, cfg.sampleRateHz, { engine: 'js' });
      const c3 = process.cpuUsage().user;
      computeLogMelPatches(x, cfg.sampleRateHz, cfg);
      const c4 = process.cpuUsage().user;
      if (i === 0) continue; // warm-up
      stage.decode.push((c1 - c0) / 1e6);
      stage.resample.push((c2 - c1) / 1e6);
      stage.resampleTs.push((c3 - c2) / 1e6);
      stage.logMel.push((c4 - c3) / 1e6);
    }
    const m = Object.fromEntries(Object.entries(stage).map(([k, v]) => [k, median(v)])) as Record<keyof typeof stage, number>;
    const rt = (cpu: number): number => Math.round(seconds / cpu);
    return {
      audioSeconds: seconds,
      cpuSecondsPerStage: m,
      realTimeFactorCpu: {
        default: rt(m.decode + m.resample + m.logMel),
        typeScriptResampler: rt(m.decode + m.resampleTs + m.logMel),
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function streamingBench(srIn: number, audioSeconds: number): { wall: number; cpu: number } {
  const x = Float32Array.from(signal(srIn * audioSeconds, srIn));
  const chunk = Math.round(srIn / 10);
  const t = timeIt(() => {
    const p = createStreamingPatcher(cfg);
    for (let at = 0; at < x.length; at += chunk) p.push({ samples: x.subarray(at, at + chunk), sampleRateHz: srIn, startSample: at });
    p.end();
  }, 3);
  return rate(audioSeconds, t);
}

export async function run(): Promise<Record<string, unknown>> {
  const x = signal(16000 * 60, 16000);
  const ours = logMelBench(x, 'auto');
  const oursJs = logMelBench(x, 'js');
  const np = numpyBench(x);
  let maxAbsDiff = 0;
  for (let i = 0; i < ours.out.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(ours.out[i]! - np.out[i]!), Math.abs(oursJs.out[i]! - np.out[i]!));
  const ours_ = rate(ours.frames, ours.t);
  const oursJs_ = rate(oursJs.frames, oursJs.t);
  const np_ = rate(np.frames, np.t);
  return {
    note: 'single-threaded float64 both sides; 2-core machine shared with other jobs: wall numbers are noisy, cpu = per user-CPU second',
    logMelFrames: ours.frames,
    earshotEngine: ours.engine,
    earshotFramesPerSecond: ours_,
    earshotTypeScriptOnlyFramesPerSecond: oursJs_,
    numpyFramesPerSecond: np_,
    numpyVersion: np.numpy,
    ratioEarshotOverNumpy: { wall: Number((ours_.wall / np_.wall).toFixed(2)), cpu: Number((ours_.cpu / np_.cpu).toFixed(2)) },
    ratioTypeScriptOnlyOverNumpy: { wall: Number((oursJs_.wall / np_.wall).toFixed(2)), cpu: Number((oursJs_.cpu / np_.cpu).toFixed(2)) },
    maxAbsDiffVsNumpy: maxAbsDiff,
    resampleAudioSecondsPerSecond: Object.fromEntries(RESAMPLE_PAIRS.map(([a, b]) => [`${a}->${b}`, resampleBench(a, b, 10)])),
    fileFrontend44kStereo: await fileFrontendBench(60),
    streamingPatchesAudioSecondsPerSecond: { '44100': streamingBench(44100, 10), '16000': streamingBench(16000, 30) },
  };
}
