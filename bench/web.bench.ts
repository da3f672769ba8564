// The dashboard in headless Chromium against an in-process daemon (shipped YAMNet, looped speech
// file at real time, history and clips on, as `earshot run` wires them):
// - page load on loopback: navigation start -> the live view mounted with the token checked and
//   the sources known (the page's `earshot:live` mark; median/max over 6 fresh browser contexts);
// - hop end -> DOM: the wall time the daemon had read the hop's last sample (its `audio` output)
//   to the live-labels list showing that hop (a MutationObserver in the page); includes model time;
// - Chromium memory over a session: JS heap and DOM nodes (CDP Performance.getMetrics) sampled
//   every 10 s; EARSHOT_BENCH_WEB_SECONDS sets its length (default 120; the issue asks 600);
// - bundle: bytes of what the live view loads (raw and gzip), and of the lazy history/settings views.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

import { parseConfig } from '../src/config/load.js';
import { defaultDaemonDeps, startDaemon } from '../src/pipeline/daemon.js';
import { assetPaths } from '../src/web/routes.js';
import { launchChromium, speechWithGap } from '../test/web/dashboard-fixture.js';

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return Number(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!.toFixed(1));
}

function bundle(): Record<string, number> {
  const lazy = new Set(['/ui/history.js', '/ui/settings.js']);
  let raw = 0;
  let gz = 0;
  let lazyRaw = 0;
  let lazyGz = 0;
  for (const [url, file] of assetPaths()) {
    const b = readFileSync(file);
    const z = gzipSync(b).length;
    if (lazy.has(url)) {
      lazyRaw += b.length;
      lazyGz += z;
    } else {
      raw += b.length;
      gz += z;
    }
  }
  return { liveViewBytes: raw, liveViewGzipBytes: gz, lazyViewsBytes: lazyRaw, lazyViewsGzipBytes: lazyGz };
}

export async function run(): Promise<Record<string, unknown>> {
  const seconds = Number(process.env.EARSHOT_BENCH_WEB_SECONDS ?? 120);
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-web-'));
  const token = 'bench-token';
  const wav = speechWithGap(dir, 1);
  const config = parseConfig({ server: { port: 0, token }, sources: [{ id: 'speech', kind: 'file', path: wav, loop: true, realtime: true }] });
  // wall time at which each stream second had been read, from the daemon's own `audio` outputs
  const audio: { t: number; wall: number }[] = [];
  const base = await defaultDaemonDeps({ version: 'bench' });
  const daemon = await startDaemon(config, {
    ...base,
    history: { path: join(dir, 'history.sqlite'), clipsDir: join(dir, 'clips') },
    onOutput: (o) => {
      if (o.kind === 'audio') audio.push({ t: o.streamSeconds, wall: Date.now() });
    },
  });
  const url = `http://127.0.0.1:${daemon.address.port}/?token=${token}`;
  const browser = await launchChromium();
  try {
    // page load
    const loads: number[] = [];
    for (let i = 0; i < 6; i++) {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(url);
      await page.getByTestId('live-labels').waitFor();
      loads.push(await page.evaluate<number>(`performance.getEntriesByName('earshot:live')[0].startTime`));
      await ctx.close();
    }

    // hop end -> DOM over a session, and memory
    const ctx = await browser.newContext({ bypassCSP: true });
    const page = await ctx.newPage();
    await page.goto(url);
    await page.getByTestId('live-labels').waitFor();
    await page.evaluate(`(() => {
      window.__updates = [];
      const el = document.querySelector('[data-testid="live-labels"]');
      new MutationObserver(() => window.__updates.push([Number(el.dataset.t), Date.now()])).observe(el, { attributes: true, attributeFilter: ['data-t'] });
    })()`);
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Performance.enable');
    const memory: { s: number; heapMiB: number; nodes: number }[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      await cdp.send('HeapProfiler.collectGarbage').catch(() => undefined);
      const { metrics } = await cdp.send('Performance.getMetrics');
      const m = new Map(metrics.map((x) => [x.name, x.value]));
      memory.push({ s: Math.round((Date.now() - t0) / 1000), heapMiB: Number(((m.get('JSHeapUsedSize') ?? 0) / 2 ** 20).toFixed(2)), nodes: m.get('Nodes') ?? 0 });
      await page.waitForTimeout(Math.min(10_000, seconds * 1000 - (Date.now() - t0)));
    }
    const updates = (await page.evaluate('window.__updates')) as [number, number][];
    const latency: number[] = [];
    for (const [t, wall] of updates) {
      const read = audio.find((a) => a.t >= t - 1e-6);
      if (read) latency.push(wall - read.wall);
    }
    const heap = memory.map((m) => m.heapMiB);
    return {
      seconds,
      pageLoadMs: { median: pct(loads, 50), max: pct(loads, 100), runs: loads.map((x) => Math.round(x)) },
      hopToDomMs: { n: latency.length, p50: pct(latency, 50), p99: pct(latency, 99), max: pct(latency, 100) },
      chromium: { heapMiBFirst: heap[0], heapMiBLast: heap.at(-1), heapMiBMax: Math.max(...heap), nodesFirst: memory[0]?.nodes, nodesLast: memory.at(-1)?.nodes, samples: memory },
      bundle: bundle(),
    };
  } finally {
    await browser.close();
    await daemon.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
