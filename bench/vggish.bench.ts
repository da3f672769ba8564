// VGGish throughput/load/RSS per engine on the formula weights, against PyTorch (bench/py/vggish_torch.py).
// Each engine runs in a fresh process (bench/vggish-worker.mjs, on the compiled dist/ code that
// `earshot` runs; `npm run bench` builds it first) so load time and RSS are its own.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { EngineConfig } from '../src/config/sections/engine.js';
import { availableEngines } from '../src/models/engine/index.js';
import { graphMacs, inferShapes } from '../src/models/graph/shapes.js';
import { formulaVggishWeights, vggishGraph, writeFormulaVggishDir } from '../src/models/vggish/index.js';
import { measurePeakGflops } from './peak.js';

const NOMINAL_PEAK_GFLOPS = 350; // the lead's figure for this machine kind; the measured peak is reported beside it
const root = join(fileURLToPath(import.meta.url), '..', '..');
const shared = resolve(process.env.EARSHOT_SHARED ?? join(root, '..', 'shared'));

interface WorkerSpec {
  dir: string;
  engine: Partial<EngineConfig>;
  batch1Iters: number;
  batch32Iters: number;
  spinning?: boolean;
}

function spawnWorker(spec: WorkerSpec): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['--expose-gc', join(root, 'bench/vggish-worker.mjs'), JSON.stringify(spec)], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) return { error: (r.stderr || `exit ${r.status}`).trim().split('\n').slice(-3).join(' ') };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = join(mkdtempSync(join(tmpdir(), 'earshot-bench-vggish-')), 'vggish');
  try {
    const weights = formulaVggishWeights();
    const flopsPerPatch = 2 * graphMacs(inferShapes(vggishGraph(), weights), weights);
    writeFormulaVggishDir(dir);
    const peak = measurePeakGflops();
    const measuredPeak = 'gflops' in peak ? peak.gflops : undefined;
    const pctOf = (rate: number, peakGflops: number) => Math.round(((rate * flopsPerPatch) / (peakGflops * 1e9)) * 1000) / 10;
    const pct = (r: Record<string, unknown>) => {
      const out: Record<string, unknown> = { ...r };
      for (const k of ['patchesPerSecondBatch1', 'patchesPerSecondBatch32'] as const) {
        const v = r[k];
        if (typeof v !== 'number') continue;
        out[k.replace('patchesPerSecond', 'pctNominalPeak')] = pctOf(v, NOMINAL_PEAK_GFLOPS);
        if (measuredPeak !== undefined) out[k.replace('patchesPerSecond', 'pctMeasuredPeak')] = pctOf(v, measuredPeak);
      }
      return out;
    };
    const engines: Record<string, unknown> = {};
    const onnx = { kind: 'onnx', threads: 2 } as const;
    // First onnx start compiles the graph into <dir>/cache; the others measure the cached start.
    engines['onnx (cold start: compile)'] = pct(spawnWorker({ dir, engine: onnx, batch1Iters: 0, batch32Iters: 0 }));
    engines['onnx'] = pct(spawnWorker({ dir, engine: onnx, batch1Iters: 60, batch32Iters: 10 }));
    engines['onnx (engine.memoryArena off)'] = pct(spawnWorker({ dir, engine: { ...onnx, memoryArena: false }, batch1Iters: 60, batch32Iters: 10 }));
    engines['onnx (thread spinning on)'] = pct(spawnWorker({ dir, engine: onnx, batch1Iters: 60, batch32Iters: 10, spinning: true }));
    const avail = await availableEngines();
    for (const a of avail.filter((x) => x.kind === 'tfjs')) {
      if (!a.available) engines[`tfjs/${a.backend}`] = { unavailable: a.reason };
      else {
        const engine = { kind: 'tfjs', tfjsBackend: a.backend as EngineConfig['tfjsBackend'], threads: 2 } as const;
        engines[`tfjs/${a.backend}`] = pct(spawnWorker({ dir, engine, batch1Iters: a.backend === 'cpu' ? 2 : 10, batch32Iters: a.backend === 'cpu' ? 0 : 1 }));
      }
    }
    const py = spawnSync('/usr/bin/python3', [join(root, 'bench/py/vggish_torch.py'), dir, join(shared, 'golden', 'vggish-net'), '20', '10'], {
      encoding: 'utf8',
      env: { ...process.env, OMP_NUM_THREADS: '2' },
    });
    const torch = py.status === 0 ? pct(JSON.parse(py.stdout) as Record<string, unknown>) : { error: py.stderr.trim().split('\n').slice(-2).join(' ') };
    const dflt = engines['onnx'] as Record<string, number>;
    const t = torch as Record<string, number>;
    return {
      model: 'vggish (formula weights)',
      flopsPerPatch,
      gflopsPerPatch: flopsPerPatch / 1e9,
      nominalPeakGflops: NOMINAL_PEAK_GFLOPS,
      measuredPeak: peak,
      defaultEngine: avail.find((a) => a.available)?.kind,
      engines,
      pytorch: torch,
      speedupVsPytorchBatch32: dflt.patchesPerSecondBatch32 && t.patchesPerSecondBatch32 ? dflt.patchesPerSecondBatch32 / t.patchesPerSecondBatch32 : null,
      speedupVsPytorchBatch1: dflt.patchesPerSecondBatch1 && t.patchesPerSecondBatch1 ? dflt.patchesPerSecondBatch1 / t.patchesPerSecondBatch1 : null,
      note: 'machine has 2 cores shared with other jobs: numbers are noisy',
      loadAverage: loadavg(),
    };
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
}
