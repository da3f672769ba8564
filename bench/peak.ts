// Measured fp32 FMA peak (bench/peak.c), so "% of peak" uses this machine's number, not a nominal one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** GFLOP/s over all cores, or an error string when no C compiler with AVX-512 is present. */
export function measurePeakGflops(): { gflops: number; threads: number } | { error: string } {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-peak-'));
  try {
    const exe = join(dir, 'peak');
    const src = fileURLToPath(new URL('peak.c', import.meta.url));
    const cc = spawnSync('cc', ['-O3', '-march=native', '-pthread', '-o', exe, src], { encoding: 'utf8' });
    if (cc.status !== 0) return { error: `cc failed: ${(cc.stderr || String(cc.error)).trim().split('\n')[0]}` };
    const threads = availableParallelism();
    const r = spawnSync(exe, [String(threads)], { encoding: 'utf8' });
    const gflops = Number(r.stdout.trim());
    if (r.status !== 0 || !(gflops > 0)) return { error: `peak kernel failed: ${r.stderr.trim() || `exit ${r.status}`}` };
    return { gflops, threads };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
