import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { loadLatestCheckpoint, localStorage, type S3Storage, s3Storage, saveCheckpoint } from '../../src/storage/index.js';
import { loadClips } from '../../src/train/datasets/index.js';
import { missingCephBinaries, type RadosgwTestServer, startRadosgw } from '../helpers/s3.js';
import { sharedPath } from '../helpers/shared.js';
import { storageContract } from '../storage/contract.js';

/**
 * The Storage contract against a real Ceph radosgw (single-node cluster started
 * here). Skipped only when the Ceph binaries are absent outside CI; in CI
 * (CI set) a missing binary fails the run.
 */
const missing = missingCephBinaries();
if (missing.length > 0 && !process.env.CI) {
  test(`radosgw integration (SKIPPED: ${missing.join(', ')} not installed; apt-get install ceph-mon ceph-osd radosgw ceph-common)`, { skip: true }, () => {});
} else {
  let rgw: RadosgwTestServer;
  const opened: S3Storage[] = [];
  let n = 0;
  const fresh = (): S3Storage => {
    const s = s3Storage(rgw.url(`t${n++}`), rgw.config);
    opened.push(s);
    return s;
  };

  before(async () => {
    rgw = await startRadosgw();
  });
  after(async () => {
    for (const s of opened) s.close();
    await rgw?.stop();
  });

  // radosgw PUTs are atomic per object, so the one-key overwrite race runs too.
  storageContract('radosgw', async () => fresh(), { atomicOverwrite: true });

  test('radosgw: checkpoints round-trip and keep the last K', async () => {
    const s = fresh();
    for (let v = 1; v <= 4; v++) await saveCheckpoint(s, `iter-${v}`, { 'w.bin': Buffer.alloc(300_000, v), 'meta.json': Buffer.from(`{"v":${v}}`) }, { keep: 2 });
    const c = await loadLatestCheckpoint(s);
    assert.equal(c?.name, 'iter-4');
    assert.equal(
      c?.files['w.bin']!.every((b) => b === 4),
      true,
    );
    assert.deepEqual([...new Set((await s.list('checkpoints/')).map((k) => k.split('/')[1]))].sort(), ['iter-3', 'iter-4', 'latest.json']);
  });

  test('radosgw: AudioSet TFRecords packed from radosgw equal the local packing', async () => {
    const local = localStorage(sharedPath('data/audioset/features'));
    const keys = (await local.list('eval/')).slice(0, 30);
    const s = fresh();
    for (const k of keys) await s.writeAtomic(k, await local.read(k));
    const remote = await loadClips(s, { prefix: 'eval/' });
    const direct = await loadClips(local, { prefix: 'eval/' });
    const m = remote.count;
    assert.ok(m > 50);
    assert.deepEqual(remote.videoIds, direct.videoIds.slice(0, m));
    assert.deepEqual(remote.x, direct.x.subarray(0, m * 1280));
    assert.deepEqual(remote.y, direct.y.subarray(0, m * 527));
  });
}
