// YAMNet (real Google weights from ../shared) throughput per engine, and the real-time
// factor of the whole `earshot tag` path (decode + resample + frontend + model) on a 60 s file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { decodeAudioFile } from '../src/audio/decode.js';
import { engineSchema } from '../src/config/sections/engine.js';
import { frontendSchema } from '../src/config/sections/frontend.js';
import { computeLogMelPatches, resample } from '../src/features/index.js';
import { availableEngines } from '../src/models/engine/index.js';
import { graphMacs, inferShapes } from '../src/models/graph/shapes.js';
import { readModelDir } from '../src/models/modeldir.js';
import { formulaVggishWeights, vggishGraph } from '../src/models/vggish/index.js';
import { yamnetGraph } from '../src/models/yamnet/graph.js';
import { importYamnet } from '../src/models/yamnet/import.js';
import { padWaveformForYamnet } from '../src/models/yamnet/pad.js';
import { tagWaveform } from '../src/models/yamnet/tag-audio.js';
import { loadYamnetTagger } from '../src/models/yamnet/tagger.js';

const here = fileURLToPath(import.meta.url);
const root = resolve(here, '..', '..');
const shared = resolve(process.env.EARSHOT_SHARED ?? join(root, '..', 'shared'));

function patches(n: number): Float32Array {
  let s = 11;
  return Float32Array.from({ length: n * 96 * 64 }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 4294967296) * 7 - 5;
  });
}

function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function seconds(fn: () => Promise<unknown>, repeats: number): Promise<number> {
  await fn();
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    t.push((performance.now() - t0) / 1000);
  }
  return median(t);
}

async function engineRates(dir: string, kind: 'onnx' | 'tfjs', tfjsBackend: 'auto' | 'wasm' | 'cpu', iters: { b1: number; b32: number }) {
  const t0 = performance.now();
  const tagger = await loadYamnetTagger(dir, engineSchema.parse({ kind, tfjsBackend, threads: 2, batchSize: 32 }));
  const loadSeconds = (performance.now() - t0) / 1000;
  try {
    const one = patches(1);
    const many = patches(32);
    const b1 =
      iters.b1 > 0
        ? iters.b1 /
          (await seconds(async () => {
            for (let i = 0; i < iters.b1; i++) await tagger.scorePatches(one, 1);
          }, 3))
        : null;
    const b32 =
      iters.b32 > 0
        ? (32 * iters.b32) /
          (await seconds(async () => {
            for (let i = 0; i < iters.b32; i++) await tagger.scorePatches(many, 32);
          }, 3))
        : null;
    return { engine: tagger.backend, loadSeconds, patchesPerSecondBatch1: b1, patchesPerSecondBatch32: b32 };
  } finally {
    await tagger.dispose();
  }
}

function synth(path: string, rate: number, channels: number): void {
  // 60 s: tone + quieter pink noise, so every stage sees realistic, non-silent input.
  const r = spawnSync(
    'sox',
    ['-n', '-r', String(rate), '-c', String(channels), '-b', '16', path, 'synth', '60', 'sine', '440', 'pinknoise', 'remix', '-', 'vol', '0.3', ...(channels === 2 ? ['channels', '2'] : [])],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`sox failed: ${r.stderr}`);
}

/** In-process `earshot tag` path with a loaded model: per-stage seconds and the real-time factor. */
async function tagPath(dir: string, file: string) {
  const tagger = await loadYamnetTagger(dir, engineSchema.parse({ kind: 'auto', threads: 2 }));
  const fe = frontendSchema.parse(tagger.frontend);
  try {
    const stages = { decode: [] as number[], resampleFrontend: [] as number[], model: [] as number[], total: [] as number[] };
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      const audio = await decodeAudioFile(file);
      const t1 = performance.now();
      const x = audio.sampleRateHz === fe.sampleRateHz ? audio.samples : resample(audio.samples, audio.sampleRateHz, fe.sampleRateHz);
      const p = computeLogMelPatches(padWaveformForYamnet(x, fe.sampleRateHz, fe), fe.sampleRateHz, fe);
      const t2 = performance.now();
      await tagger.scorePatches(p.data, p.count);
      const t3 = performance.now();
      // The same work through the public function the CLI calls, as a cross-check of the sum.
      if (i === 0) await tagWaveform(tagger, audio.samples, audio.sampleRateHz, fe);
      if (i === 0) continue; // warm-up
      stages.decode.push((t1 - t0) / 1000);
      stages.resampleFrontend.push((t2 - t1) / 1000);
      stages.model.push((t3 - t2) / 1000);
      stages.total.push((t3 - t0) / 1000);
    }
    const total = median(stages.total);
    const rtf = (s: number) => Math.round((60 / s) * 10) / 10;
    return {
      engine: tagger.backend,
      decodeSeconds: median(stages.decode),
      resampleFrontendSeconds: median(stages.resampleFrontend),
      modelSeconds: median(stages.model),
      totalSeconds: total,
      realTimeFactor: rtf(total),
      realTimeFactorPerStage: { decode: rtf(median(stages.decode)), resampleFrontend: rtf(median(stages.resampleFrontend)), model: rtf(median(stages.model)) },
    };
  } finally {
    await tagger.dispose();
  }
}

/** The CLI as a user runs it (bin/earshot.js on the built dist/: Node start-up, model load, tagging). */
function cliWall(dir: string, file: string): { seconds: number; realTimeFactor: number } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin/earshot.js'), 'tag', file, '--model', dir, '--json'], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`earshot tag failed: ${r.stderr}`);
  return { seconds: s, realTimeFactor: 60 / s };
}

export async function run(): Promise<Record<string, unknown>> {
  const tmp = mkdtempSync(join(tmpdir(), 'earshot-bench-yamnet-'));
  try {
    const dir = join(tmp, 'yamnet');
    const ti = performance.now();
    importYamnet({ tflitePath: join(shared, 'models/yamnet/yamnet.tflite'), outDir: dir });
    const importSeconds = (performance.now() - ti) / 1000;
    const w = readModelDir(dir).weights;
    const flopsPerPatch = 2 * graphMacs(inferShapes(yamnetGraph(), w), w);
    const vw = formulaVggishWeights();
    const vggishFlopsPerPatch = 2 * graphMacs(inferShapes(vggishGraph(), vw), vw);

    const engines: Record<string, unknown> = {};
    engines['onnx'] = await engineRates(dir, 'onnx', 'auto', { b1: 60, b32: 6 });
    for (const a of (await availableEngines()).filter((x) => x.kind === 'tfjs')) {
      if (!a.available) engines[`tfjs/${a.backend}`] = { unavailable: a.reason };
      else if (a.backend === 'cpu') engines['tfjs/cpu'] = await engineRates(dir, 'tfjs', 'cpu', { b1: 2, b32: 0 });
      else if (a.backend === 'wasm') engines['tfjs/wasm'] = await engineRates(dir, 'tfjs', 'wasm', { b1: 10, b32: 1 });
    }

    const wav16 = join(tmp, 'sixty-16k-mono.wav');
    const wav44 = join(tmp, 'sixty-44k-stereo.wav');
    synth(wav16, 16000, 1);
    synth(wav44, 44100, 2);
    const vggishOut = join(root, 'bench/out/vggish.json');
    const vggish = existsSync(vggishOut) ? (JSON.parse(readFileSync(vggishOut, 'utf8')) as { engines?: Record<string, { patchesPerSecondBatch32?: number }> }) : undefined;
    const onnx = engines['onnx'] as { patchesPerSecondBatch32: number };
    const vggishOnnx = vggish?.engines?.['onnx']?.patchesPerSecondBatch32;
    return {
      model: 'yamnet (Google tflite, int8 weights dequantized to float32)',
      importSeconds,
      flopsPerPatch,
      gflopsPerPatch: flopsPerPatch / 1e9,
      engines,
      tagPath16kMono: await tagPath(dir, wav16),
      tagPath44kStereo: await tagPath(dir, wav44),
      cli16kMono: cliWall(dir, wav16),
      cli44kStereo: cliWall(dir, wav44),
      targetRealTimeFactor: 300,
      vggish: {
        gflopsPerPatch: vggishFlopsPerPatch / 1e9,
        flopsRatioVggishOverYamnet: vggishFlopsPerPatch / flopsPerPatch,
        onnxPatchesPerSecondBatch32: vggishOnnx ?? 'run `npm run bench -- vggish` first',
        speedRatioYamnetOverVggishOnnxBatch32: vggishOnnx ? onnx.patchesPerSecondBatch32 / vggishOnnx : null,
      },
      note: 'machine has 2 cores shared with other engineers: numbers are noisy; YAMNet hops every 0.48 s (125 patches per 60 s) vs VGGish 0.96 s',
    };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
