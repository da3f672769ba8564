// --like brute force: the WebAssembly SIMD int8 kernel vs the JS loop, same matrix (LIKE_BENCH_ROWS, default 200,000 x 1024).
import { codeNorm, topCosine } from '../src/history/embedding.js';
import { rng } from '../test/helpers/rng.js';
import type { BenchResult } from './run.js';

export async function run(): Promise<BenchResult> {
  const rows = Number(process.env.LIKE_BENCH_ROWS ?? 200_000);
  const dim = 1024;
  const r = rng(5);
  const codes = new Int8Array(rows * dim);
  for (let i = 0; i < codes.length; i++) codes[i] = Math.round((r() * 2 - 1) * 127);
  const norms = Float32Array.from({ length: rows }, (_, i) => codeNorm(codes.subarray(i * dim, (i + 1) * dim)));
  const q = codes.slice(0, dim);
  const time = (wasm: boolean) => {
    const xs: number[] = [];
    for (let k = 0; k < 5; k++) {
      const t = performance.now();
      topCosine(q, codes, norms, rows, 20, undefined, wasm);
      xs.push(performance.now() - t);
    }
    return Math.round(xs.sort((a, b) => a - b)[2]!);
  };
  const wasmMs = time(true);
  const jsMs = time(false);
  return { rows, dim, wasmMedianMs: wasmMs, jsMedianMs: jsMs, speedup: Math.round((jsMs / wasmMs) * 10) / 10, wasmMsPerMillion: Math.round((wasmMs * 1e6) / rows) };
}
