import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'node:test';

import pg from 'pg';

import { run } from '../e2e/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { startNats } from '../helpers/nats.js';
import { startPostgres } from '../helpers/postgres.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function worker(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), 'worker', ...args], {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  return { child, err: () => err, exited: new Promise((r) => child.once('exit', r)) };
}

/**
 * Distributed indexing with real parts: `earshot index --queue` on a real nats-server
 * -js, two `earshot worker` processes on real YAMNet writing a real PostgreSQL. Worker
 * A is SIGKILLed while it indexes a 10-minute file: the file goes to worker B after the
 * ack wait, and every file ends up indexed exactly once.
 */
test('2 index workers, one SIGKILLed mid-file: every file is indexed exactly once', { timeout: 600_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'earshot-workers-'));
  const nats = await startNats();
  const pgs = await startPostgres();
  const procs: ChildProcess[] = [];
  t.after(async () => {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await nats.stop();
    await pgs.stop();
    rmSync(root, { recursive: true, force: true });
  });
  const model = join(root, 'yamnet');
  const imp = await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model]);
  assert.equal(imp.code, 0, imp.stderr);
  const archive = join(root, 'archive');
  mkdirSync(join(archive, 'sub'), { recursive: true });
  run('espeak-ng', ['-w', join(root, 'raw.wav'), 'Distributed archive indexing, one file at a time.']);
  run('sox', [join(root, 'raw.wav'), '-r', '16000', '-c', '1', join(root, 'speech.wav'), 'pad', '0', '1']);
  // The long one is first in the queue (sorted paths): worker A takes it.
  run('sox', [join(root, 'speech.wav'), join(archive, 'a-long.wav'), 'repeat', '150']);
  for (let i = 0; i < 5; i++) run('sox', [join(root, 'speech.wav'), join(archive, 'sub', `b-${i}.wav`), 'speed', String(0.8 + i * 0.1), 'rate', '16000']);
  run('cp', ['/usr/share/sounds/freedesktop/stereo/bell.oga', join(archive, 'sub', 'c-bell.oga')]);
  const files = 7;

  const url = await pgs.database();
  const env = { EARSHOT__FLEET__ACKWAITSECONDS: '4', EARSHOT__MODELS__YAMNETDIR: model };
  const q = await runCli(['index', archive, '--queue', nats.url], { env });
  assert.equal(q.code, 0, q.stderr);
  assert.match(q.stderr, new RegExp(`queued ${files} files`));

  // Two workers at once; whichever takes the long file (first in the queue) is SIGKILLed mid-file.
  const ws = [worker(['--queue', nats.url, '--db', url], env), worker(['--queue', nats.url, '--db', url], env)];
  for (const w of ws) procs.push(w.child);
  let victim = -1;
  for (let i = 0; victim < 0; i++) {
    victim = ws.findIndex((w) => /indexing .*a-long\.wav/.test(w.err()));
    if (i > 1200 || ws.some((w) => w.child.exitCode !== null)) throw new Error(`no worker started the long file: ${ws.map((w) => w.err()).join('\n')}`);
    await sleep(100);
  }
  const a = ws[victim]!;
  const b = ws[1 - victim]!;
  a.child.kill('SIGKILL'); // mid-file: 10 minutes of audio take seconds to tag
  await a.exited;
  assert.doesNotMatch(a.err(), /worker: indexed .*a-long/);
  const byA = [...a.err().matchAll(/worker: indexed (\S+)/g)].map((m) => m[1]);
  // Any machine can follow the queue until it is drained.
  const waited = await runCli(['index', archive, '--queue', nats.url, '--wait'], { env, timeoutMs: 400_000 });
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stderr, /queued 0 files \(7 already waiting\)/);
  assert.match(waited.stderr, /queue: 0 waiting, 0 being indexed\s*$/);
  b.child.kill('SIGTERM');
  await b.exited;
  assert.match(b.err(), /worker: indexed .*a-long\.wav/, b.err());

  const c = new pg.Client({ connectionString: url });
  await c.connect();
  t.after(() => c.end());
  const rows = (
    await c.query(`SELECT st.name, count(s.id)::int AS n, count(DISTINCT s.start_s)::int AS distinct_starts, max(f.duration_seconds) AS dur
                   FROM files f JOIN streams st ON st.id = f.stream_id LEFT JOIN segments s ON s.stream_id = st.id GROUP BY st.name ORDER BY st.name`)
  ).rows as { name: string; n: number; distinct_starts: number; dur: number }[];
  assert.equal(rows.length, files, JSON.stringify(rows));
  for (const r of rows) {
    assert.ok(r.n > 0, `${r.name} has segments`);
    // Exactly once: no segment twice, and as many as the file's length gives (one per ~0.96 s).
    assert.equal(r.n, r.distinct_starts, `${r.name}: ${r.n} segments, ${r.distinct_starts} distinct`);
    assert.ok(Math.abs(r.n - r.dur / 0.96) <= 2, `${r.name}: ${r.n} segments for ${r.dur} s`);
  }
  // Each file was written once, by one of the workers (A died before its commit), none twice.
  const byB = [...b.err().matchAll(/worker: indexed (\S+)/g)].map((m) => m[1]);
  assert.equal(byA.length + byB.length, files, `A: ${byA.join(' ')} B: ${byB.join(' ')}`);
  assert.equal(new Set([...byA, ...byB]).size, files);
});
