import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';

import { storageSchema } from '../../src/config/sections/storage.js';
import { isEarshotError } from '../../src/errors.js';
import { memoryStorage, openStorage } from '../../src/storage/index.js';
import { localStorage } from '../../src/storage/local.js';
import { tempDir } from '../helpers/tmp.js';
import { storageContract } from './contract.js';

const cfg = storageSchema.parse({});
const fresh = () => tempDir('local');

storageContract('local', async () => localStorage(fresh()));
storageContract('local via file:// URL', async () => openStorage(pathToFileURL(fresh()).href, cfg));

test('openStorage accepts plain paths and file URLs and rejects other schemes', async () => {
  const dir = fresh();
  const a = openStorage(dir, cfg);
  await a.writeAtomic('k', Buffer.from('v'));
  assert.equal((await openStorage(pathToFileURL(dir).href, cfg).read('k')).toString(), 'v');
  assert.equal((await openStorage(`${dir}/`, cfg).read('k')).toString(), 'v');
  assert.equal(a.url, pathToFileURL(dir).href);
  assert.throws(
    () => openStorage('http://example.invalid/x', cfg),
    (e) => isEarshotError(e, 'INPUT_INVALID'),
  );
  assert.throws(
    () => openStorage('', cfg),
    (e) => isEarshotError(e, 'INPUT_INVALID'),
  );
});

test('local writeAtomic leaves no temp files and hides in-flight ones from list', async () => {
  const dir = fresh();
  const s = localStorage(dir);
  await Promise.all(Array.from({ length: 20 }, (_, i) => s.writeAtomic(`n/${i % 3}`, Buffer.alloc(1000 * i))));
  assert.deepEqual(readdirSync(join(dir, 'n')).sort(), ['0', '1', '2']);
  // A temp file from a crashed writer is never listed as an object.
  writeFileSync(join(dir, 'n', '.earshot-tmp-deadbeef'), 'partial');
  assert.deepEqual(await s.list(), ['n/0', 'n/1', 'n/2']);
});

test('local read of a directory or through a file is DATA_NOT_FOUND, not a crash', async () => {
  const dir = fresh();
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'f'), 'x');
  const s = localStorage(dir);
  await assert.rejects(
    () => s.read('sub'),
    (e) => isEarshotError(e, 'DATA_NOT_FOUND'),
  );
  await assert.rejects(
    () => s.size('sub'),
    (e) => isEarshotError(e, 'DATA_NOT_FOUND'),
  );
  await assert.rejects(
    () => s.read('f/x'),
    (e) => isEarshotError(e, 'DATA_NOT_FOUND'),
  );
  assert.equal(await s.exists('f/x'), false);
  assert.deepEqual(await localStorage(join(dir, 'missing-root')).list(), []);
});

storageContract('memory', async () => memoryStorage());
