// One engine's VGGish measurement in a fresh process, on the compiled dist/ code a user runs
// (no TypeScript loader in the process, so load time and RSS are the engine's own).
// Usage: node --expose-gc bench/vggish-worker.mjs '{"dir", "engine": {...engine config}, "batch1Iters", "batch32Iters", "spinning"?}'
import { readFileSync } from 'node:fs';

import { engineSchema } from '../dist/config/sections/engine.js';
import { embedPatches, openVggish } from '../dist/models/vggish/index.js';

function randomPatches(n) {
  let s = 7;
  return Float32Array.from({ length: n * 96 * 64 }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s / 4294967296) * 7 - 4.6;
  });
}

/**
 * This process's own peak RSS: VmHWM (getrusage's maxRSS would also count the spawning parent's),
 * or the current RSS when higher, since the kernel updates VmHWM lazily (on unmap and exit).
 */
function peakRssMB() {
  const now = process.memoryUsage().rss / 1e6;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Math.max((Number(m[1]) * 1024) / 1e6, now);
  } catch {}
  return Math.max((process.resourceUsage().maxRSS * 1024) / 1e6, now);
}

const spec = JSON.parse(process.argv[2]);
const t0 = performance.now();
const model = await openVggish(spec.dir, engineSchema.parse(spec.engine), spec.spinning === undefined ? {} : { spinning: spec.spinning });
const loadSeconds = (performance.now() - t0) / 1000;
// Let the loader's stack unwind first: the JS-side weights of a cold start are only unreachable then.
await new Promise((r) => setTimeout(r, 0));
globalThis.gc?.();
globalThis.gc?.(); // a second pass frees the array buffers the first one finalized
const rssAfterLoadMB = process.memoryUsage().rss / 1e6;
// CPU ms per patch (all threads) alongside wall-clock rates: less distorted by other jobs on the machine.
const cpuMs = {};
async function rate(batch, iters) {
  if (iters === 0) return null;
  const x = randomPatches(batch);
  await embedPatches(model.engine, x, batch, batch); // warm-up: the first run allocates buffers
  const c0 = process.cpuUsage();
  const t = performance.now();
  for (let i = 0; i < iters; i++) await embedPatches(model.engine, x, batch, batch);
  const c = process.cpuUsage(c0);
  cpuMs[`batch${batch}`] = Math.round(((c.user + c.system) / 1000 / (batch * iters)) * 10) / 10;
  return (batch * iters) / ((performance.now() - t) / 1000);
}
const b1 = await rate(1, spec.batch1Iters);
// Batch 1 is how the daemon runs VGGish (patch by patch): the RSS a live tagger holds.
const rssAfterBatch1MB = process.memoryUsage().rss / 1e6;
const b32 = await rate(32, spec.batch32Iters);
const result = {
  engine: `${model.engine.kind}/${model.engine.backend}`,
  loadSeconds,
  patchesPerSecondBatch1: b1,
  patchesPerSecondBatch32: b32,
  cpuMsPerPatch: cpuMs,
  rssAfterLoadMB,
  rssAfterBatch1MB,
  rssMB: process.memoryUsage().rss / 1e6,
  maxRssMB: peakRssMB(),
};
await model.engine.dispose();
process.stdout.write(JSON.stringify(result) + '\n');
