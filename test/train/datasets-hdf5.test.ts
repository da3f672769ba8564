import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import { memoryStorage } from '../../src/storage/index.js';
import { localStorage } from '../../src/storage/local.js';
import { loadClips, openKongHdf5, openKongHdf5FromStorage, readKongHdf5 } from '../../src/train/datasets/index.js';
import { sharedPath } from '../helpers/shared.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * Test files are written by h5py (Debian python3-h5py) at test time, in the
 * layout of Kong et al.'s packed AudioSet files, plus the ways they go wrong.
 */
const PY = String.raw`
import sys, h5py, numpy as np
d = sys.argv[1]
x = np.fromfile(d + '/x.bin', dtype=np.uint8).reshape(-1, 10, 128)
y = np.fromfile(d + '/y.bin', dtype=np.uint8).reshape(-1, 527).astype(bool)
ids = open(d + '/ids.txt').read().split('\n')
n = len(ids)
def write(name, xk={}, yk={}, ids_fixed=True, **over):
    with h5py.File(d + '/' + name + '.h5', 'w') as f:
        f.create_dataset('x', data=over.get('x', x), **xk)
        f.create_dataset('y', data=over.get('y', y), **yk)
        vid = np.array([s.encode() for s in ids], dtype='S11') if ids_fixed else [s.encode() for s in ids]
        if 'ids' not in over: f.create_dataset('video_id_list', data=vid)
        else: f.create_dataset('video_id_list', data=over['ids'])
write('plain')
write('gzip', dict(compression='gzip', shuffle=True, chunks=(16, 10, 128)), dict(compression='gzip', chunks=(16, 527)), ids_fixed=False)
write('lzf', dict(compression='lzf', chunks=(16, 10, 128)))
write('fletcher', dict(fletcher32=True, chunks=(16, 10, 128)))
write('scaleoffset', dict(scaleoffset=0, chunks=(16, 10, 128)))
write('xfloat', x=x.astype(np.float32))
write('badlabels', y=y.astype(np.uint8) * 2)
write('short_ids', ids=np.array([b'a'] * (n - 1), dtype='S1'))
with h5py.File(d + '/noy.h5', 'w') as f:
    f.create_dataset('x', data=x)
    f.create_dataset('video_id_list', data=np.array([s.encode() for s in ids], dtype='S11'))
with h5py.File(d + '/gzip.h5') as f:
    off = f['x'].id.get_chunk_info(1).byte_offset
b = bytearray(open(d + '/gzip.h5', 'rb').read())
for i in range(off + 20, off + 80): b[i] ^= 0x5A
open(d + '/badchunk.h5', 'wb').write(b)
raw = open(d + '/plain.h5', 'rb').read()
open(d + '/truncated.h5', 'wb').write(raw[: len(raw) // 3])
open(d + '/garbage.h5', 'wb').write(b'\x89HDF\r\n\x1a\n' + bytes(range(256)) * 8)
`;

let dir = '';
let packed: Awaited<ReturnType<typeof loadClips>>;

before(async () => {
  dir = tempDir('h5');
  // 300 real clips from the balanced split, packed by our TFRecord path: the reference the HDF5 reads must equal.
  const all = await loadClips(localStorage(sharedPath('data/audioset/features')), { prefix: 'bal_train/-' });
  const n = Math.min(300, all.count);
  packed = { ...all, count: n, x: all.x.slice(0, n * 1280), y: all.y.slice(0, n * 527), videoIds: all.videoIds.slice(0, n), seconds: all.seconds.slice(0, n) };
  writeFileSync(join(dir, 'x.bin'), packed.x);
  writeFileSync(join(dir, 'y.bin'), packed.y);
  writeFileSync(join(dir, 'ids.txt'), packed.videoIds.join('\n'));
  const r = spawnSync('/usr/bin/python3', ['-c', PY, dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, `h5py fixture generation failed (needs Debian python3-h5py): ${r.stderr}`);
});

for (const name of ['plain', 'gzip']) {
  test(`${name}: hyperslab reads equal the TFRecord packing of the same clips`, async () => {
    const f = await openKongHdf5(join(dir, `${name}.h5`));
    try {
      assert.equal(f.count, packed.count);
      assert.equal(f.timeSteps, 10);
      assert.equal(f.numClasses, 527);
      const a = f.read(17, 123);
      assert.deepEqual(a.x, packed.x.subarray(17 * 1280, 123 * 1280));
      assert.deepEqual(a.y, packed.y.subarray(17 * 527, 123 * 527));
      assert.deepEqual(a.videoIds, packed.videoIds.slice(17, 123));
      assert.equal(f.read(5, 5).count, 0);
      assert.throws(
        () => f.read(0, packed.count + 1),
        (e) => isEarshotError(e, 'INPUT_INVALID'),
      );
    } finally {
      f.close();
    }
    const batches = [];
    for await (const b of readKongHdf5(join(dir, `${name}.h5`), { batchClips: 64 })) batches.push(b);
    assert.deepEqual(
      batches.map((b) => b.count),
      [64, 64, 64, 64, packed.count - 256],
    );
    assert.deepEqual(
      batches.flatMap((b) => b.videoIds),
      packed.videoIds,
    );
  });
}

test('filters other than deflate/shuffle are DATA_UNSUPPORTED naming the filter, before any read', async () => {
  for (const [file, filter] of [
    ['lzf', /filter lzf \(id 32000\)/],
    ['fletcher', /\(id 3\)/],
    ['scaleoffset', /\(id 6\)/],
  ] as const) {
    await assert.rejects(
      () => openKongHdf5(join(dir, `${file}.h5`)),
      (e) => isEarshotError(e, 'DATA_UNSUPPORTED') && filter.test(e.message) && e.message.includes(`${file}.h5`) && e.message.includes('dataset x'),
      file,
    );
  }
});

test('corrupt, truncated and malformed files are DATA_CORRUPT / DATA_UNSUPPORTED / DATA_NOT_FOUND, never garbage', async () => {
  const f = await openKongHdf5(join(dir, 'badchunk.h5'));
  try {
    // Chunk 0 is intact; chunk 1 (rows 16..31) has a broken deflate stream.
    assert.deepEqual(f.read(0, 16).x, packed.x.subarray(0, 16 * 1280));
    assert.throws(
      () => f.read(10, 40),
      (e) => isEarshotError(e, 'DATA_CORRUPT') && /rows \[10, 40\) of x/.test(e.message),
    );
  } finally {
    f.close();
  }
  for (const name of ['truncated', 'garbage', 'noy', 'short_ids']) {
    await assert.rejects(
      () => openKongHdf5(join(dir, `${name}.h5`)),
      (e) => isEarshotError(e, 'DATA_CORRUPT') && e.message.includes(`${name}.h5`),
      name,
    );
  }
  await assert.rejects(
    () => openKongHdf5(join(dir, 'xfloat.h5')),
    (e) => isEarshotError(e, 'DATA_UNSUPPORTED') && /dataset x/.test(e.message),
  );
  const bad = await openKongHdf5(join(dir, 'badlabels.h5'));
  try {
    assert.throws(
      () => bad.read(0, 50),
      (e) => isEarshotError(e, 'DATA_CORRUPT') && /not 0\/1/.test(e.message),
    );
  } finally {
    bad.close();
  }
  await assert.rejects(
    () => openKongHdf5(join(dir, 'missing.h5')),
    (e) => isEarshotError(e, 'DATA_NOT_FOUND'),
  );
  // Sanity: the fixture really is what we think (h5py wrote LZF, so a naive read would have "worked").
  assert.ok(readFileSync(join(dir, 'lzf.h5')).includes(Buffer.from('lzf')));
});

test('a read over the byte budget is refused instead of allocated', async () => {
  const f = await openKongHdf5(join(dir, 'plain.h5'), { maxReadBytes: 10_000 });
  try {
    assert.equal(f.read(0, 5).count, 5);
    assert.throws(
      () => f.read(0, 100),
      (e) => isEarshotError(e, 'INPUT_INVALID') && /limit/.test(e.message),
    );
  } finally {
    f.close();
  }
});

test('openKongHdf5FromStorage reads in place from file:// and via a temp copy from other storage', async () => {
  const viaLocal = await openKongHdf5FromStorage(localStorage(dir), 'gzip.h5');
  const mem = memoryStorage();
  await mem.writeAtomic('packed/bal.h5', readFileSync(join(dir, 'plain.h5')));
  const viaMem = await openKongHdf5FromStorage(mem, 'packed/bal.h5');
  try {
    assert.equal(viaLocal.path, join(dir, 'gzip.h5'));
    assert.equal(viaMem.path, 'memory://mem/packed/bal.h5');
    assert.deepEqual(viaMem.read(0, 40).x, viaLocal.read(0, 40).x);
    assert.deepEqual(viaMem.read(250, 260).videoIds, packed.videoIds.slice(250, 260));
  } finally {
    viaLocal.close();
    viaMem.close();
  }
  await assert.rejects(
    () => openKongHdf5FromStorage(mem, 'packed/nope.h5'),
    (e) => isEarshotError(e, 'DATA_NOT_FOUND'),
  );
});
