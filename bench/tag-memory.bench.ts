// Peak RSS of `earshot tag` (the built CLI, YAMNet) on long 16 kHz WAVs, measured by GNU time
// (`/usr/bin/time -v`, Debian package `time`). Memory must not grow with the file's length
// (issue #19: the whole-file path peaked at 2.5 GB on 2 hours); the target is <= 400 MB.
// EARSHOT_BENCH_TAG_SECONDS sets the long file's length (default 7200 s = 2 hours).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { importYamnet } from '../src/models/yamnet/import.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const shared = resolve(process.env.EARSHOT_SHARED ?? join(root, '..', 'shared'));

function silentWav(path: string, seconds: number): void {
  const r = spawnSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', path, 'trim', '0', String(seconds)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sox failed: ${r.stderr}`);
}

/** Runs `earshot tag FILE` under GNU time; stdout goes to /dev/null so only the CLI's own memory counts. */
function measure(dir: string, file: string): { maxRssMB: number; wallSeconds: number } {
  const t0 = performance.now();
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, join(root, 'bin/earshot.js'), 'tag', file, '--model', dir, '--json'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const wallSeconds = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`earshot tag failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const kb = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (!kb) throw new Error(`no RSS in /usr/bin/time output: ${r.stderr.slice(-500)}`);
  return { maxRssMB: Math.round(Number(kb[1]) / 1024), wallSeconds: Math.round(wallSeconds * 10) / 10 };
}

export async function run(): Promise<Record<string, unknown>> {
  const long = Number(process.env.EARSHOT_BENCH_TAG_SECONDS ?? 7200);
  const tmp = mkdtempSync(join(tmpdir(), 'earshot-bench-tagmem-'));
  try {
    const dir = join(tmp, 'yamnet');
    importYamnet({ tflitePath: join(shared, 'models/yamnet/yamnet.tflite'), outDir: dir });
    const out: Record<string, unknown> = { command: 'earshot tag FILE --model DIR --json > /dev/null', targetMaxRssMB: 400 };
    for (const seconds of [60, long]) {
      const file = join(tmp, `silence-${seconds}s.wav`);
      silentWav(file, seconds);
      out[`wav16kMono${seconds}s`] = measure(dir, file);
      rmSync(file);
    }
    return out;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
