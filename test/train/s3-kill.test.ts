import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { decodeCheckpoint } from '../../src/train/checkpoint.js';
import { runCli } from '../helpers/cli.js';
import { startS3rver } from '../helpers/s3.js';
import { projectRoot } from '../helpers/shared.js';
import { s3TrainSetup } from './s3-fixture.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('S3 killed mid-training: no checkpoint is lost and --resume continues from the last complete one', async () => {
  const s3 = await startS3rver();
  const dir = mkdtempSync(join(tmpdir(), 'earshot-train-s3kill-'));
  try {
    const { store, args } = await s3TrainSetup(s3, dir);

    // A long run, checkpointing every iteration; the server dies under it.
    const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), ...args, '--iterations', '1000000'], { cwd: projectRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    // Old checkpoints are pruned (only the last few are kept), so watch the newest iteration, not a count.
    const newestCheckpoint = async () => Math.max(0, ...(await store.list('model/checkpoints/')).map((k) => Number(/iter-(\d+)\/state\.bin$/.exec(k)?.[1] ?? 0)));
    for (let i = 0; i < 600 && (await newestCheckpoint()) < 3; i++) await sleep(100);
    assert.ok((await newestCheckpoint()) >= 3, `training saved checkpoints before the kill: ${stderr}`);
    await s3.kill();
    const code = await Promise.race([exited, sleep(120_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') child.kill('SIGKILL');
    assert.notEqual(code, 0, 'training must not report success when its checkpoint store is gone');
    assert.match(stderr, /STORAGE_FAILED/);

    await s3.restart();
    const saved = (await store.list('model/checkpoints/')).map((k) => /iter-(\d+)\/state\.bin$/.exec(k)).filter((m) => m !== null);
    const last = Math.max(...saved.map((m) => Number(m[1])));
    assert.ok(last >= 3, `checkpoints survived the kill (last ${last})`);
    const target = last + 10;
    const resumed = await runCli([...args, '--iterations', String(target), '--resume']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const history = JSON.parse((await store.read('model/history.json')).toString()) as Array<{ iteration: number }>;
    assert.deepEqual(
      history.map((h) => h.iteration),
      Array.from({ length: target }, (_, i) => i + 1),
      'one contiguous history: nothing lost, nothing repeated',
    );
    const ck = (await store.list('model/checkpoints/')).find((k) => k.endsWith(`iter-${String(target).padStart(9, '0')}/state.bin`));
    assert.ok(ck);
    assert.equal(decodeCheckpoint(await store.read(ck), ck).iteration, target);
  } finally {
    await s3.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
