// Soak: `earshot run` (from source, YAMNet) for EARSHOT_BENCH_SOAK_SECONDS (default 3600 = 1 hour) with
// a looping file source read in real time, 50 subscribers to everything and one client that
// reconnects every few seconds. Reports the daemon's RSS drift (mean of the last sixth of the run
// over the first sixth after warm-up; target < 5 %), event-loop lag p99 (prom-client's
// nodejs_eventloop_lag_p99_seconds per 10 s window: the median window and the worst) and every error seen. Not part of a plain
// `npm run bench`: run it by name, `npm run bench -- soak` (issue #19).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { WebSocket } from 'ws';

import { importYamnet } from '../src/models/yamnet/import.js';
import { startDaemonProcess } from '../test/e2e/daemon-process.js';
import { sharedPath } from '../test/helpers/shared.js';

const SUBSCRIBERS = 50;
const RECONNECT_MS = 5000;
const SAMPLE_MS = 10_000;

function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function promValue(text: string, name: string): number | undefined {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const quantile = (xs: readonly number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

export async function run(): Promise<Record<string, unknown>> {
  const seconds = Number(process.env.EARSHOT_BENCH_SOAK_SECONDS ?? 3600);
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-soak-'));
  const errors: string[] = [];
  const sockets = new Set<WebSocket>();
  let messages = 0;
  let reconnects = 0;
  try {
    importYamnet({ tflitePath: sharedPath('models/yamnet/yamnet.tflite'), outDir: join(dir, 'yamnet') });
    const wav = join(dir, 'speech.wav');
    const r = spawnSync('espeak-ng', ['-w', wav, 'Earshot keeps listening for an hour: speech, then a pause, then speech again.']);
    if (r.status !== 0) throw new Error(`espeak-ng failed: ${String(r.stderr)}`);
    const d = await startDaemonProcess(
      {
        models: { yamnetDir: join(dir, 'yamnet') },
        history: { enabled: false },
        server: { port: 0 },
        sources: [{ id: 'loop', kind: 'file', path: wav, loop: true, realtime: true }],
      },
      dir,
    );
    const open = (onMessage?: () => void): Promise<WebSocket> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(d.ws);
        sockets.add(ws);
        ws.on('message', (data) => {
          messages++;
          const m = JSON.parse(data.toString()) as { type: string; code?: string };
          if (m.type === 'error') errors.push(`error message: ${m.code}`);
          onMessage?.();
        });
        ws.once('open', () => {
          ws.send(JSON.stringify({ type: 'subscribe' }));
          resolve(ws);
        });
        ws.on('error', (e) => {
          errors.push(`socket: ${e.message}`);
          reject(e);
        });
        ws.on('close', () => sockets.delete(ws));
      });
    let stopping = false;
    for (let i = 0; i < SUBSCRIBERS; i++) {
      const ws = await open();
      ws.on('close', (code) => {
        if (!stopping) errors.push(`subscriber ${i} closed (${code})`);
      });
    }
    const reconnector = setInterval(() => {
      void open()
        .then((ws) => setTimeout(() => ws.close(1000), RECONNECT_MS / 2))
        .then(() => reconnects++)
        .catch(() => undefined);
    }, RECONNECT_MS);

    const pid = d.child.pid!;
    const samples: { t: number; rss: number; lagP99: number }[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      await new Promise((res) => setTimeout(res, SAMPLE_MS));
      if (d.child.exitCode !== null) {
        errors.push(`daemon exited ${d.child.exitCode}: ${d.stderr().slice(-500)}`);
        break;
      }
      const metrics = await fetch(`${d.http}/metrics`).then((res) => res.text());
      const health = await fetch(`${d.http}/healthz`);
      if (health.status !== 200) errors.push(`/healthz ${health.status}`);
      samples.push({ t: (Date.now() - t0) / 1000, rss: rssBytes(pid), lagP99: promValue(metrics, 'nodejs_eventloop_lag_p99_seconds') ?? NaN });
    }
    stopping = true;
    clearInterval(reconnector);
    for (const ws of sockets) ws.close(1000);
    const code = await d.stop();
    if (code !== 0) errors.push(`daemon exit code ${code}`);

    const sixth = seconds / 6;
    const warm = Math.min(120, sixth);
    const first = samples.filter((s) => s.t >= warm && s.t < warm + sixth).map((s) => s.rss);
    const last = samples.filter((s) => s.t >= seconds - sixth).map((s) => s.rss);
    const drift = (mean(last) - mean(first)) / mean(first);
    // each scrape resets prom-client's delay histogram: one p99 per 10 s window, after warm-up (model load blocks the loop)
    const lags = samples
      .filter((s) => s.t >= warm)
      .map((s) => s.lagP99)
      .filter(Number.isFinite);
    return {
      seconds,
      subscribers: SUBSCRIBERS,
      reconnects,
      messages,
      rssFirstMB: Math.round(mean(first) / 2 ** 20),
      rssLastMB: Math.round(mean(last) / 2 ** 20),
      rssMaxMB: Math.round(Math.max(...samples.map((s) => s.rss)) / 2 ** 20),
      rssDriftPercent: Math.round(drift * 1000) / 10,
      targetDriftPercent: 5,
      eventLoopLagP99MedianMs: Math.round(quantile(lags, 0.5) * 1e4) / 10,
      eventLoopLagP99WorstWindowMs: Math.round(Math.max(...lags) * 1e4) / 10,
      errors: errors.length,
      firstErrors: errors.slice(0, 5),
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    rmSync(dir, { recursive: true, force: true });
  }
}
