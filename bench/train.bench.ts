// Classifier training/eval throughput: earshot (OpenBLAS addon, and the TS fallback for one
// step) vs PyTorch (bench/py/train_torch.py, Debian python3-torch, 2 threads) on the same
// decision_level_multi_attention head, batch 500 x [10, 128], in the same run.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { type Blas, defaultBlas, tsBlas } from '../src/classify/blas.js';
import { createHead } from '../src/classify/head.js';
import { bceLoss } from '../src/classify/layers.js';
import { backward, forward, initParams, type NetSpec, zeroGrads } from '../src/classify/net.js';
import { adamInit, adamStep } from '../src/train/adam.js';
import { Rng } from '../src/train/rng.js';

const SPEC: NetSpec = { modelType: 'decision_level_multi_attention', timeSteps: 10, inputDim: 128, hidden: 1024, classes: 527 };
const BATCH = 500;

function trainRate(blas: Blas, steps: number, batch = BATCH): { clipsPerSecond: number; secondsPerStep: number } {
  const rng = new Rng(1);
  const p = initParams(SPEC, () => rng.next());
  const x = new Float32Array(batch * 10 * 128).map(() => rng.next() * 2 - 1);
  const y = new Float32Array(batch * 527).map(() => (rng.next() < 0.01 ? 1 : 0));
  const adam = adamInit(zeroGrads(SPEC));
  const step = (): void => {
    const c = forward(blas, SPEC, p, x, batch, { training: true, dropout: 0.5, rng });
    const g = zeroGrads(SPEC);
    backward(blas, SPEC, p, c, bceLoss(c.output, y).grad, g);
    adamStep(p, g, adam, { lr: 1e-3 });
  };
  step();
  const t0 = performance.now();
  for (let i = 0; i < steps; i++) step();
  const s = (performance.now() - t0) / 1000;
  return { clipsPerSecond: (steps * batch) / s, secondsPerStep: s / steps };
}

function evalRate(blas: Blas, clips: number): number {
  const rng = new Rng(2);
  const head = createHead(
    SPEC,
    initParams(SPEC, () => rng.next()),
    blas,
  );
  const x = new Float32Array(clips * 10 * 128).map(() => rng.next() * 2 - 1);
  head.predictSync(x.subarray(0, BATCH * 1280), BATCH);
  const t0 = performance.now();
  head.predictSync(x, clips);
  return clips / ((performance.now() - t0) / 1000);
}

export async function run(): Promise<Record<string, unknown>> {
  const steps = Number(process.env.BENCH_TRAIN_STEPS ?? 10);
  const evalClips = 5000;
  const blas = defaultBlas();
  const ours = trainRate(blas, steps);
  const oursEval = evalRate(blas, evalClips);
  // The pure-TS sgemm needs minutes for a 500-clip step; one 20-clip step shows its rate.
  const fallback = trainRate(tsBlas, 1, 20);
  const script = fileURLToPath(new URL('./py/train_torch.py', import.meta.url));
  const py = spawnSync('/usr/bin/python3', [script, String(steps), String(evalClips)], { encoding: 'utf8', env: { ...process.env, OPENBLAS_CORETYPE: 'SkylakeX', THREADS: '2' } });
  const torch: Record<string, unknown> = py.status === 0 ? (JSON.parse(py.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>) : { error: py.stderr.slice(-500) };
  return {
    note: 'noisy: 2 shared cores; other jobs may be running',
    model: SPEC.modelType,
    batch: BATCH,
    earshot: { blas: blas.name, trainClipsPerSecond: ours.clipsPerSecond, trainSecondsPerStep: ours.secondsPerStep, evalClipsPerSecond: oursEval },
    earshotTsFallback: { batch: 20, trainClipsPerSecond: fallback.clipsPerSecond, trainSecondsPerStep: fallback.secondsPerStep },
    pytorch: torch,
    ...(typeof torch.trainClipsPerSecond === 'number'
      ? { trainSpeedupVsPytorch: ours.clipsPerSecond / torch.trainClipsPerSecond, evalSpeedupVsPytorch: oursEval / (torch.evalClipsPerSecond as number) }
      : {}),
  };
}
