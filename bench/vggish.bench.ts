// VGGish throughput/load/RSS per engine on the formula weights, against PyTorch (bench/py/vggish_torch.py).
// Each engine runs in a fresh child process (this file with --worker) so load time and RSS are its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineSchema } from '../src/config/sections/engine.js';
import { graphMacs, inferShapes } from '../src/models/graph/shapes.js';
import { availableEngines } from '../src/models/engine/index.js';
import { embedPatches, formulaVggishWeights, openVggish, vggishGraph, writeFormulaVggishDir } from '../src/models/vggish/index.js';

const PEAK_GFLOPS = 350; // this machine's fp32 peak (2 cores, AVX-512 FMA), as given by the lead
const here = fileURLToPath(import.meta.url);
const root = join(here, '..', '..');

interface WorkerSpec {
  dir: string;
  kind: 'onnx' | 'tfjs';
  tfjsBackend: 'auto' | 'tensorflow' | 'wasm' | 'cpu';
  threads: number;
  batch1Iters: number;
  batch32Iters: number;
  spinning?: boolean;
}

function randomPatches(n: number): Float32Array {
  let s = 7;
  return Float32Array.from({ length: n * 96 * 64 }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 4294967296) * 7 - 4.6;
  });
}

async function worker(spec: WorkerSpec): Promise<void> {
  const t0 = performance.now();
  const cfg = engineSchema.parse({ kind: spec.kind, tfjsBackend: spec.tfjsBackend, threads: spec.threads });
  const model = await openVggish(spec.dir, cfg, spec.spinning === undefined ? {} : { spinning: spec.spinning });
  const loadSeconds = (performance.now() - t0) / 1000;
  (globalThis as { gc?: () => void }).gc?.();
  const rssAfterLoadMB = process.memoryUsage().rss / 1e6;
  // CPU ms per patch (all threads) alongside wall-clock rates: less distorted by other jobs on the machine.
  const cpuMs: Record<string, number> = {};
  const rate = async (batch: number, iters: number) => {
    if (iters === 0) return null;
    const x = randomPatches(batch);
    await embedPatches(model.engine, x, batch, batch); // warm-up: first run allocates buffers
    const c0 = process.cpuUsage();
    const t = performance.now();
    for (let i = 0; i < iters; i++) await embedPatches(model.engine, x, batch, batch);
    const c = process.cpuUsage(c0);
    cpuMs[`batch${batch}`] = Math.round(((c.user + c.system) / 1000 / (batch * iters)) * 10) / 10;
    return (batch * iters) / ((performance.now() - t) / 1000);
  };
  const b1 = await rate(1, spec.batch1Iters);
  const b32 = await rate(32, spec.batch32Iters);
  const result = {
    engine: `${model.engine.kind}/${model.engine.backend}`,
    loadSeconds,
    patchesPerSecondBatch1: b1,
    patchesPerSecondBatch32: b32,
    cpuMsPerPatch: cpuMs,
    rssAfterLoadMB,
    rssMB: process.memoryUsage().rss / 1e6,
    maxRssMB: process.resourceUsage().maxRSS / 1024,
  };
  await model.engine.dispose();
  process.stdout.write(JSON.stringify(result) + '\n');
}

function spawnWorker(spec: WorkerSpec): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', here, '--worker', JSON.stringify(spec)], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return { error: (r.stderr || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ') };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = join(mkdtempSync(join(tmpdir(), 'earshot-bench-vggish-')), 'vggish');
  try {
    const weights = formulaVggishWeights();
    const flopsPerPatch = 2 * graphMacs(inferShapes(vggishGraph(), weights), weights);
    writeFormulaVggishDir(dir);
    const pct = (r: Record<string, unknown>) => {
      const out: Record<string, unknown> = { ...r };
      for (const k of ['patchesPerSecondBatch1', 'patchesPerSecondBatch32'] as const) {
        if (typeof r[k] === 'number') out[k.replace('patchesPerSecond', 'pctPeak')] = Math.round(((r[k] as number) * flopsPerPatch) / (PEAK_GFLOPS * 1e9) * 1000) / 10;
      }
      return out;
    };
    const engines: Record<string, unknown> = {};
    const base = { dir, threads: 2 };
    // First onnx start compiles the graph into <dir>/cache; the second measures the cached start.
    engines['onnx (cold start: compile)'] = pct(spawnWorker({ ...base, kind: 'onnx', tfjsBackend: 'auto', batch1Iters: 0, batch32Iters: 0 }));
    engines['onnx'] = pct(spawnWorker({ ...base, kind: 'onnx', tfjsBackend: 'auto', batch1Iters: 60, batch32Iters: 8 }));
    engines['onnx (thread spinning on)'] = pct(spawnWorker({ ...base, kind: 'onnx', tfjsBackend: 'auto', batch1Iters: 60, batch32Iters: 8, spinning: true }));
    const avail = await availableEngines();
    for (const a of avail.filter((x) => x.kind === 'tfjs')) {
      if (!a.available) engines[`tfjs/${a.backend}`] = { unavailable: a.reason };
      else if (a.backend === 'cpu') engines['tfjs/cpu'] = pct(spawnWorker({ ...base, kind: 'tfjs', tfjsBackend: 'cpu', batch1Iters: 2, batch32Iters: 0 }));
      else engines[`tfjs/${a.backend}`] = pct(spawnWorker({ ...base, kind: 'tfjs', tfjsBackend: a.backend as WorkerSpec['tfjsBackend'], batch1Iters: 10, batch32Iters: 1 }));
    }
    const py = spawnSync('/usr/bin/python3', [join(root, 'bench/py/vggish_torch.py'), dir, join(root, '..', 'shared', 'golden', 'vggish-net'), '20', '4'], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '2' } });
    const torch = py.status === 0 ? pct(JSON.parse(py.stdout) as Record<string, unknown>) : { error: py.stderr.trim().split('\n').slice(-2).join(' ') };
    const onnx = engines['onnx'] as Record<string, number>;
    const t = torch as Record<string, number>;
    return {
      model: 'vggish (formula weights)',
      flopsPerPatch,
      gflopsPerPatch: flopsPerPatch / 1e9,
      peakGflops: PEAK_GFLOPS,
      defaultEngine: avail.find((a) => a.available)?.kind,
      engines,
      pytorch: torch,
      speedupVsPytorchBatch32: onnx.patchesPerSecondBatch32 && t.patchesPerSecondBatch32 ? onnx.patchesPerSecondBatch32 / t.patchesPerSecondBatch32 : null,
      speedupVsPytorchBatch1: onnx.patchesPerSecondBatch1 && t.patchesPerSecondBatch1 ? onnx.patchesPerSecondBatch1 / t.patchesPerSecondBatch1 : null,
      note: 'machine has 2 cores shared with other jobs: numbers are noisy',
      loadAverage: loadavg(),
    };
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}

if (process.argv[1] === here && process.argv[2] === '--worker') await worker(JSON.parse(process.argv[3]!) as WorkerSpec);
