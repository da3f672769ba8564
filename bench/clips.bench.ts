// Clip writing cost per source: 10 minutes of 16 kHz audio (0.1 s chunks, quiet noise)
// pushed as fast as the clip tap takes it, with a 2 s event every 10 s (default config:
// FLAC, 5 s pre-roll, 2 s post-roll, spectrogram PNG). CPU is the daemon process's own
// (ring copies, PCM conversion, spectrogram) plus the ffmpeg children's (from
// /proc/self/stat cutime/cstime), per second of audio = the share of one core a live
// source costs. Ring memory is the ring buffer's size at 16, 44.1 and 48 kHz.
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Registry } from 'prom-client';

import type { LabelInfo } from '../src/classify/contracts.js';
import { ClipManager } from '../src/clips/manager.js';
import { clipsSchema } from '../src/config/sections/clips.js';
import { rng } from '../test/helpers/rng.js';

const LABELS: LabelInfo[] = [{ index: 0, id: '/m/x', name: 'X' }];

function childCpuSeconds(): number {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[13]) + Number(f[14])) / 100; // cutime, cstime (fields 16, 17) in USER_HZ
}

export async function run(): Promise<Record<string, unknown>> {
  const seconds = Number(process.env.EARSHOT_BENCH_CLIP_SECONDS ?? 600);
  const rate = 16000;
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-clips-'));
  try {
    const cfg = clipsSchema.parse({});
    const m = new ClipManager(cfg, { dir, runId: 'b', record: () => undefined, log: () => undefined }, new Registry());
    const tap = m.tap('src', LABELS);
    const r = rng(1);
    const chunk = rate / 10;
    const cpu0 = process.cpuUsage();
    const child0 = childCpuSeconds();
    const t0 = performance.now();
    let seq = 0;
    for (let k = 0; k < seconds * 10; k++) {
      const samples = Float32Array.from({ length: chunk }, () => Math.round((r() - 0.5) * 400) / 32768);
      tap.audio({ samples, sampleRateHz: rate, startSample: k * chunk }, 0);
      const t = (k + 1) / 10;
      const ev = { id: `src:0:${seq}`, sourceId: 'src', label: 'X', labelId: '/m/x', startSeconds: t - 1, score: 0.9 };
      if (k % 100 === 60) tap.output({ kind: 'event', event: { ...ev, type: 'event.start', tSeconds: t - 1, endSeconds: t } });
      if (k % 100 === 80) {
        tap.output({ kind: 'event', event: { ...ev, type: 'event.end', tSeconds: t, endSeconds: t } });
        seq++;
      }
      if (k % 10 === 0) await new Promise((res) => setImmediate(res)); // let encoders and drawings run
    }
    await m.stop();
    await m.close();
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const own = (cpu.user + cpu.system) / 1e6;
    const ffmpeg = childCpuSeconds() - child0;
    const ring = (hz: number) => Math.ceil((cfg.preRollSeconds + cfg.ringMarginSeconds) * hz) * 4;
    return {
      audioSeconds: seconds,
      clips: seq,
      wallSeconds: Number(wall.toFixed(2)),
      daemonCpuSeconds: Number(own.toFixed(3)),
      ffmpegCpuSeconds: Number(ffmpeg.toFixed(3)),
      cpuPerClipMs: Number((((own + ffmpeg) / seq) * 1000).toFixed(1)),
      corePercentPerSource: Number((((own + ffmpeg) / seconds) * 100).toFixed(3)),
      ringBytes: { '16000': ring(16000), '44100': ring(44100), '48000': ring(48000) },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
