// `earshot learn` (issue #15): wall and CPU time to learn 4 sounds from 5 recordings each
// (+ 3 minutes of background), built from real sounds as in test/learn/soundset.ts; and the
// per-stream cost of custom heads on the live path: applyHead on one 1024-d embedding per
// 0.48 s hop, against the YAMNet pass it rides on. Set building is not timed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfig } from '../src/config/load.js';
import { applyHead } from '../src/learn/head.js';
import { readCustomModel } from '../src/learn/modeldir.js';
import { runLearn } from '../src/learn/run.js';
import { loadYamnetTagger } from '../src/models/yamnet/tagger.js';
import { buildTrainingSet } from '../test/learn/soundset.js';

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-learn-'));
  const yamnet = join(process.cwd(), 'models/yamnet');
  try {
    await buildTrainingSet(join(dir, 'data'), { perClass: 5, backgroundSeconds: 180, seed: 41 });
    const config = loadConfig({});
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { report } = await runLearn({ dataDir: join(dir, 'data'), outDir: join(dir, 'model'), baseDir: yamnet, config });
    const learnWallSeconds = (performance.now() - t0) / 1000;
    const learnCpuSeconds = cpuSeconds(process.cpuUsage(cpu0));

    const m = readCustomModel(join(dir, 'model'));
    const emb = Float32Array.from({ length: 1024 }, (_, i) => Math.abs(Math.sin(i)) * 0.3);
    const hops = 5000;
    const c0 = process.cpuUsage();
    for (let i = 0; i < hops; i++) applyHead(m.head, emb, 1);
    const headCpuMicrosPerHop = (cpuSeconds(process.cpuUsage(c0)) * 1e6) / hops;

    const tagger = await loadYamnetTagger(yamnet, config.engine);
    const session = tagger.openSession();
    const patch = { index: 0, startSeconds: 0, frames: 96, bands: 64, data: Float32Array.from({ length: 96 * 64 }, (_, i) => Math.sin(i) * 2 - 4) };
    for (let i = 0; i < 5; i++) await session.tagWithEmbedding!(patch);
    const y0 = process.cpuUsage();
    const yHops = 100;
    for (let i = 0; i < yHops; i++) await session.tagWithEmbedding!(patch);
    const yamnetCpuMicrosPerHop = (cpuSeconds(process.cpuUsage(y0)) * 1e6) / yHops;
    await tagger.dispose();
    return {
      classes: report.classes.length,
      recordingsPerClass: 5,
      backgroundSeconds: report.backgroundSeconds,
      learnWallSeconds: Math.round(learnWallSeconds * 10) / 10,
      learnCpuSeconds: Math.round(learnCpuSeconds * 10) / 10,
      embedSeconds: report.timings.embedSeconds,
      trainSeconds: report.timings.trainSeconds,
      headCpuMicrosPerHop: Math.round(headCpuMicrosPerHop * 10) / 10,
      headShareOfOneCorePerStream: Number((headCpuMicrosPerHop / 480_000).toExponential(2)),
      yamnetCpuMicrosPerHop: Math.round(yamnetCpuMicrosPerHop),
      note: 'measured while other jobs shared the 2 cores',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
