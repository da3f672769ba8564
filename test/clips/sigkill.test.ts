import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { childPids, run, startDaemonProcess } from '../e2e/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 90_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Running (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/**
 * A real `earshot run` (YAMNet, a looped espeak-ng speech file, clips of Speech) is
 * SIGKILLed while its encoder writes a clip, after at least one clip finished. A second
 * run on the same state directory must leave history and the clips directory in
 * agreement: no partial file, every `done` row has its complete files and every clip
 * on disk has a `done` row, no row stays `writing`, the interrupted clip's row says failed.
 */
test('SIGKILL of the daemon mid-clip: on restart partial files are gone and history and disk agree', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'earshot-clipkill-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const model = join(root, 'yamnet');
  const imp = await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model]);
  assert.equal(imp.code, 0, imp.stderr);
  run('espeak-ng', ['-w', join(root, 'speech-raw.wav'), 'Hello, this is a test of the earshot audio tagger. It should recognise human speech in this recording.']);
  run('sox', [join(root, 'speech-raw.wav'), '-r', '16000', '-c', '1', join(root, 'speech.wav'), 'pad', '0', '3']);
  const dir = join(root, 'state');
  const clips = join(dir, 'clips');
  const config = {
    stateDir: dir,
    models: { yamnetDir: model },
    sources: [{ id: 'speech', kind: 'file', path: join(root, 'speech.wav'), loop: true, realtime: true }],
    supervision: { stopBudgetSeconds: 30 },
    history: { flushSeconds: 0.1 },
    clips: { preRollSeconds: 1, postRollSeconds: 1, ringMarginSeconds: 3, labels: { include: ['Speech'] } },
  };

  const first = await startDaemonProcess(config, dir);
  t.after(() => first.stop());
  const files = () => (existsSync(clips) ? readdirSync(clips) : []);
  await until('a finished clip', () => files().find((f) => f.endsWith('.flac')));
  const part = await until('a clip being written', () => files().find((f) => f.endsWith('.flac.part')));
  const encoders = childPids(first.child.pid!, 'ffmpeg');
  first.child.kill('SIGKILL');
  await first.stop();
  // The orphaned ffmpeg sees end of input and exits; only then is the leftover final.
  await until('the orphaned encoder to exit', () => (encoders.some(alive) ? undefined : true), 30_000);
  assert.ok(files().includes(part), `the kill left ${part} behind`);

  // The second run plays the file once (--once: it exits when the source ends), clipping its own events too.
  const second = await startDaemonProcess({ ...config, sources: [{ ...config.sources[0], loop: false }] }, dir, { args: ['--once'] });
  const code = second.child.exitCode ?? (await new Promise<number | null>((r) => second.child.once('exit', (c) => r(c))));
  assert.equal(code, 0, second.stderr());

  const left = files();
  assert.deepEqual(
    left.filter((f) => f.endsWith('.part')),
    [],
    'no partial file',
  );
  const store = new SqliteHistoryStore(join(dir, 'history.sqlite'), { readonly: true });
  t.after(() => store.close());
  const done = await store.clipsInState('done', 10_000);
  assert.ok(done.length >= 1, 'the clips finished before the kill are done');
  assert.deepEqual(await store.clipsInState('writing', 10_000), [], 'no row left writing');
  for (const c of done) {
    assert.ok(left.includes(c.path), `done row ${c.id} has its file`);
    assert.ok(left.includes(`${c.id}.json`), `done row ${c.id} has its sidecar`);
  }
  const onDisk = left.filter((f) => /\.(flac|opus)$/.test(f));
  assert.deepEqual(onDisk.sort(), done.map((c) => c.path).sort(), 'every clip file on disk has a done row');
  const killed = await store.clip(part.replace(/\.flac\.part$/, ''));
  assert.equal(killed?.state, 'failed');
  assert.match(killed!.error!, /interrupted/);
});
