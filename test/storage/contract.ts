import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import type { Storage } from '../../src/storage/contracts.js';

/**
 * The Storage contract, run unchanged against every backend (local dir,
 * s3rver, radosgw). `open` returns a fresh, empty storage each call.
 */
export interface BackendCaps {
  /** Concurrent PUTs of one key never expose a torn object (false for s3rver, which writes in place). */
  readonly atomicOverwrite?: boolean;
}

export function storageContract(name: string, open: () => Promise<Storage>, caps: BackendCaps = {}): void {
  const t = (title: string, fn: (s: Storage) => Promise<void>): void => {
    test(`${name}: ${title}`, async () => fn(await open()));
  };

  t('writeAtomic then read returns the same bytes; overwrite replaces them', async (s) => {
    const a = randomBytes(70_000);
    await s.writeAtomic('x/y/blob.bin', a);
    assert.deepEqual(await s.read('x/y/blob.bin'), a);
    await s.writeAtomic('x/y/blob.bin', Uint8Array.from([1, 2, 3]));
    assert.deepEqual([...(await s.read('x/y/blob.bin'))], [1, 2, 3]);
    await s.writeAtomic('empty', new Uint8Array(0));
    assert.equal((await s.read('empty')).length, 0);
    assert.equal(await s.size('empty'), 0);
  });

  t('size, exists and delete', async (s) => {
    await s.writeAtomic('d/k', Buffer.alloc(1234, 7));
    assert.equal(await s.size('d/k'), 1234);
    assert.equal(await s.exists('d/k'), true);
    assert.equal(await s.exists('d/nope'), false);
    // A "directory" is not an object.
    assert.equal(await s.exists('d'), false);
    await s.delete('d/k');
    assert.equal(await s.exists('d/k'), false);
    await s.delete('d/k'); // deleting a missing key is not an error
  });

  t('missing keys are DATA_NOT_FOUND naming the URL and key', async (s) => {
    for (const op of [() => s.read('no/such'), () => s.size('no/such'), () => s.readRange('no/such', 0, 10)]) {
      await assert.rejects(op, (e) => isEarshotError(e, 'DATA_NOT_FOUND') && e.message.includes(s.url) && e.message.includes('no/such'));
    }
  });

  t('readRange returns [start, end), clamped at the end of the object', async (s) => {
    const a = randomBytes(5000);
    await s.writeAtomic('r', a);
    assert.deepEqual(await s.readRange('r', 0, 10), a.subarray(0, 10));
    assert.deepEqual(await s.readRange('r', 4321, 4999), a.subarray(4321, 4999));
    assert.deepEqual(await s.readRange('r', 4990, 6000), a.subarray(4990));
    assert.equal((await s.readRange('r', 5000, 6000)).length, 0);
    assert.equal((await s.readRange('r', 7000, 8000)).length, 0);
    assert.equal((await s.readRange('r', 10, 10)).length, 0);
    await assert.rejects(
      () => s.readRange('r', 10, 5),
      (e) => isEarshotError(e, 'INPUT_INVALID'),
    );
    await assert.rejects(
      () => s.readRange('r', -1, 5),
      (e) => isEarshotError(e, 'INPUT_INVALID'),
    );
  });

  t('list is recursive, sorted and filters by key prefix', async (s) => {
    const keys = ['b/2', 'a/z/deep.txt', 'a/1', 'a/10', 'a/2', 'ab', 'c'];
    for (const k of keys) await s.writeAtomic(k, Buffer.from(k));
    assert.deepEqual(await s.list(), [...keys].sort());
    assert.deepEqual(await s.list('a/'), ['a/1', 'a/10', 'a/2', 'a/z/deep.txt']);
    assert.deepEqual(await s.list('a/1'), ['a/1', 'a/10']);
    assert.deepEqual(await s.list('a'), ['a/1', 'a/10', 'a/2', 'a/z/deep.txt', 'ab']);
    assert.deepEqual(await s.list('zzz/'), []);
  });

  t('keys that could escape the root are INPUT_INVALID', async (s) => {
    for (const k of ['', '../x', 'a/../../x', '/abs', 'a//b', 'a/./b', 'a\\b']) {
      await assert.rejects(
        () => s.writeAtomic(k, Buffer.from('x')),
        (e) => isEarshotError(e, 'INPUT_INVALID'),
        k,
      );
      await assert.rejects(
        () => s.read(k),
        (e) => isEarshotError(e, 'INPUT_INVALID'),
        k,
      );
    }
    await assert.rejects(
      () => s.list('../'),
      (e) => isEarshotError(e, 'INPUT_INVALID'),
    );
  });

  t('concurrent writers of distinct keys all land intact', async (s) => {
    const blobs = Array.from({ length: 16 }, (_, i) => randomBytes(10_000 + i * 1000));
    await Promise.all(blobs.map((b, i) => s.writeAtomic(`many/${String(i).padStart(2, '0')}`, b)));
    assert.equal((await s.list('many/')).length, 16);
    for (let i = 0; i < 16; i++) assert.deepEqual(await s.read(`many/${String(i).padStart(2, '0')}`), blobs[i]);
  });

  if (caps.atomicOverwrite === false) return;
  t('concurrent writers and readers of one key only ever see a complete object', async (s) => {
    const versions = Array.from({ length: 8 }, (_, i) => Buffer.alloc(20_000 + i * 7919, i + 1));
    await s.writeAtomic('hot', versions[0]!);
    const seen: Buffer[] = [];
    const readers = Array.from({ length: 12 }, async () => {
      seen.push(await s.read('hot'));
    });
    await Promise.all([...versions.map((v) => s.writeAtomic('hot', v)), ...readers]);
    const whole = (b: Buffer) => versions.some((v) => v.equals(b));
    for (const b of seen) assert.ok(whole(b), `a reader saw ${b.length} bytes that match no complete version`);
    assert.ok(whole(await s.read('hot')));
    assert.deepEqual(await s.list(), ['hot']);
  });
}
