import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { storageSchema } from '../../src/config/sections/storage.js';
import { isEarshotError } from '../../src/errors.js';
import { saveCheckpoint } from '../../src/storage/checkpoints.js';
import { openStorage } from '../../src/storage/open.js';

/**
 * A read-only checkpoint directory (a real read-only tmpfs: root ignores file modes) is a
 * storage failure naming the path, not DATA_NOT_FOUND (issue #19, wrong error codes).
 */
const root = mkdtempSync(join(tmpdir(), 'earshot-ro-'));
const ro = join(root, 'ro');
let mounted = false;

before(() => {
  mkdirSync(ro);
  mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', ro]).status === 0;
});

after(() => {
  if (mounted) spawnSync('umount', [ro]);
  rmSync(root, { recursive: true, force: true });
});

test('writes under a read-only directory are STORAGE_FAILED naming the key, for plain writes and checkpoints', async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs (not root)');
  const storage = openStorage(join(ro, 'ck'), storageSchema.parse({}));
  await assert.rejects(storage.writeAtomic('checkpoints/iter-1/state.bin', new Uint8Array(8)), (e) => isEarshotError(e, 'STORAGE_FAILED') && e.message.includes('checkpoints/iter-1/state.bin'));
  await assert.rejects(saveCheckpoint(storage, 'iter-000000001', { 'state.bin': new Uint8Array(8) }), (e) => isEarshotError(e, 'STORAGE_FAILED'));
  // Reading what is not there is still DATA_NOT_FOUND.
  await assert.rejects(storage.read('nothing.bin'), (e) => isEarshotError(e, 'DATA_NOT_FOUND'));
});
