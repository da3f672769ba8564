import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import { loadLatestCheckpoint, localStorage, s3Storage, saveCheckpoint, type Storage } from '../../src/storage/index.js';
import { startS3rver } from '../helpers/s3.js';
import { tempDir } from '../helpers/tmp.js';

const fresh = () => localStorage(tempDir('ckpt'));

/** Deterministic checkpoint content for version `v`, large enough that PUTs take a while. */
function content(v: number, bytes = 4096): Record<string, Uint8Array> {
  const blob = (tag: string) => {
    const out = Buffer.alloc(bytes);
    let h = createHash('sha256').update(`${tag}${v}`).digest();
    for (let o = 0; o < bytes; o += 32) {
      h.copy(out, o);
      h = createHash('sha256').update(h).digest();
    }
    return out;
  };
  return { 'weights.bin': blob('w'), 'optimizer.bin': blob('o'), 'state.json': Buffer.from(JSON.stringify({ iteration: v })) };
}

function versionOf(files: Record<string, Buffer>): number {
  const v = (JSON.parse(files['state.json']!.toString()) as { iteration: number }).iteration;
  const want = content(v, files['weights.bin']!.length);
  for (const [k, b] of Object.entries(want)) assert.deepEqual(files[k], Buffer.from(b), `file ${k} of version ${v} is not the saved one`);
  return v;
}

/** Storage whose `failAt`-th writeAtomic (0-based) writes the first half of the object in place, then throws: a torn crash. */
function crashing(inner: Storage, failAt: number): Storage {
  let n = 0;
  return {
    ...inner,
    url: inner.url,
    async writeAtomic(key, data) {
      if (n++ === failAt) {
        await inner.writeAtomic(key, data.subarray(0, data.length >> 1));
        throw new Error(`simulated crash writing ${key}`);
      }
      await inner.writeAtomic(key, data);
    },
  };
}

test('save/load round-trip, increasing seq, only the last K kept', async () => {
  const s = fresh();
  assert.equal(await loadLatestCheckpoint(s), undefined);
  for (let v = 1; v <= 5; v++) assert.deepEqual(await saveCheckpoint(s, `iter-${v}`, content(v), { keep: 2 }), { name: `iter-${v}`, seq: v });
  const c = await loadLatestCheckpoint(s);
  assert.equal(c?.name, 'iter-5');
  assert.equal(c?.seq, 5);
  assert.equal(versionOf(c!.files), 5);
  const dirs = new Set((await s.list('checkpoints/')).map((k) => k.split('/')[1]));
  assert.deepEqual([...dirs].sort(), ['iter-4', 'iter-5', 'latest.json']);
});

test('a crash at any write of a save never yields a partial checkpoint, and a retried save completes', async () => {
  const files = Object.keys(content(0)).length;
  // Writes per save: each file, the manifest, the pointer.
  for (let failAt = 0; failAt <= files + 1; failAt++) {
    const s = fresh();
    await saveCheckpoint(s, 'a', content(1));
    await assert.rejects(() => saveCheckpoint(crashing(s, failAt), 'b', content(2)), /simulated crash/);
    const skipped: string[] = [];
    const c = await loadLatestCheckpoint(s, { onSkip: (n) => skipped.push(n) });
    // A torn pointer (last write) falls back to the manifests, where b is already complete and verified.
    const pointerTorn = failAt === files + 1;
    assert.equal(c?.name, pointerTorn ? 'b' : 'a', `crash at write ${failAt}`);
    assert.equal(versionOf(c!.files), pointerTorn ? 2 : 1);
    // Writes resume: a retried save of the same name completes and wins.
    await saveCheckpoint(s, 'b', content(2));
    const d = await loadLatestCheckpoint(s);
    assert.equal(versionOf(d!.files), 2);
    assert.equal(d!.seq, pointerTorn ? 3 : 2, 'seq continues past a manifest that was written');
  }
});

test('a torn file or manifest is skipped in favour of the newest complete checkpoint', async () => {
  const s = fresh();
  for (let v = 1; v <= 3; v++) await saveCheckpoint(s, `v${v}`, content(v));
  const w = await s.read('checkpoints/v3/weights.bin');
  await s.writeAtomic('checkpoints/v3/weights.bin', w.subarray(0, 100));
  const skipped: [string, string][] = [];
  const c = await loadLatestCheckpoint(s, { onSkip: (n, r) => skipped.push([n, r]) });
  assert.equal(c?.name, 'v2');
  assert.equal(skipped[0]![0], 'v3');
  assert.match(skipped[0]![1], /weights\.bin has 100 bytes/);
  // A torn pointer falls back to scanning manifests by seq.
  await s.writeAtomic('checkpoints/latest.json', Buffer.from('{"format":"earshot-checkpoint-poin'));
  assert.equal((await loadLatestCheckpoint(s))?.name, 'v2');
  // ...and the next save keeps the older complete checkpoints in its history.
  await saveCheckpoint(s, 'v4', content(4));
  assert.equal((await loadLatestCheckpoint(s))?.seq, 4);
  await s.writeAtomic('checkpoints/v4/state.json', Buffer.from('{}'));
  assert.equal((await loadLatestCheckpoint(s))?.name, 'v2');
});

test('a pointer with nothing verifiable behind it is DATA_CORRUPT; bad names are INPUT_INVALID', async () => {
  const s = fresh();
  await saveCheckpoint(s, 'only', content(1), { prefix: 'ck/' });
  await s.delete('ck/only/optimizer.bin');
  await assert.rejects(
    () => loadLatestCheckpoint(s, { prefix: 'ck/' }),
    (e) => isEarshotError(e, 'DATA_CORRUPT') && /optimizer\.bin missing/.test(e.message),
  );
  await assert.rejects(
    () => saveCheckpoint(s, '../x', content(1)),
    (e) => isEarshotError(e, 'INPUT_INVALID'),
  );
  await assert.rejects(
    () => saveCheckpoint(s, 'a/b', content(1)),
    (e) => isEarshotError(e, 'INPUT_INVALID'),
  );
  await assert.rejects(
    () => saveCheckpoint(s, 'x', { 'manifest.json': new Uint8Array(1) }),
    (e) => isEarshotError(e, 'INPUT_INVALID'),
  );
  await assert.rejects(
    () => saveCheckpoint(s, 'only', content(1), { prefix: 'ck/' }),
    (e) => isEarshotError(e, 'INPUT_INVALID'),
  );
});

test('s3rver killed mid-save: no partial checkpoint is ever loaded, and saves resume after restart', async () => {
  const srv = await startS3rver();
  // Few retries so a kill really aborts the save in progress.
  const s = s3Storage(srv.url('train'), srv.config, { retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });
  try {
    let acked = 0;
    await saveCheckpoint(s, 'v1', content(1, 256 << 10));
    acked = 1;
    for (let round = 0; round < 5; round++) {
      const v = acked + 1;
      // Kill the server while the round-th write of this save is in flight (3 files, manifest, pointer).
      let writes = 0;
      let killed: Promise<void> | undefined;
      const spy: Storage = {
        ...s,
        url: s.url,
        writeAtomic: (key, data) => {
          const p = s.writeAtomic(key, data);
          if (writes++ === round) killed = srv.kill();
          return p;
        },
      };
      const saved = await saveCheckpoint(spy, `v${v}`, content(v, 256 << 10)).then(
        () => true,
        (e: unknown) => {
          assert.ok(isEarshotError(e, 'STORAGE_FAILED'), String(e));
          return false;
        },
      );
      await killed;
      if (saved) acked = v;
      await srv.restart();
      const c = await loadLatestCheckpoint(s);
      assert.ok(c, 'a complete checkpoint always exists');
      const got = versionOf(c.files);
      assert.ok(got === acked || got === v, `round ${round}: loaded v${got}, acknowledged v${acked}`);
      // Writes resume on the restarted server.
      const next = Math.max(got, v) + 1;
      await saveCheckpoint(s, `v${next}`, content(next, 256 << 10));
      acked = next;
      assert.equal(versionOf((await loadLatestCheckpoint(s))!.files), next);
    }
  } finally {
    s.close();
    await srv.stop();
  }
});
