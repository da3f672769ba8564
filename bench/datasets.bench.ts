// Dataset read speed: CRC32C throughput, AudioSet TFRecord clips/s (local and
// through S3 on s3rver), loadClips start-up time for the balanced split.
import { randomBytes } from 'node:crypto';

import { localStorage, s3Storage, type Storage } from '../src/storage/index.js';
import { loadClips, readAudioSetClips, type ReadClipsOptions } from '../src/train/datasets/index.js';
import { crc32c } from '../src/util/crc32c.js';
import { startS3rver } from '../test/helpers/s3.js';
import { sharedPath } from '../test/helpers/shared.js';

function bytewiseCrc32c(b: Uint8Array): number {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[n] = c >>> 0;
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = t[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function mbPerS(fn: (b: Uint8Array) => number, buf: Uint8Array, reps: number): number {
  fn(buf); // warm up
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) fn(buf);
  return (buf.length * reps) / 1e6 / ((performance.now() - t0) / 1000);
}

async function clipsPerSecond(s: Storage, opts: ReadClipsOptions): Promise<{ clips: number; seconds: number; clipsPerSecond: number }> {
  const t0 = performance.now();
  let clips = 0;
  for await (const _ of readAudioSetClips(s, opts)) clips++;
  const seconds = (performance.now() - t0) / 1000;
  return { clips, seconds: +seconds.toFixed(3), clipsPerSecond: Math.round(clips / seconds) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<Record<string, unknown>> {
  const buf = randomBytes(16 << 20);
  const crc = { slicingBy8MBps: Math.round(mbPerS((b) => crc32c(b), buf, 8)), bytewiseMBps: Math.round(mbPerS(bytewiseCrc32c, buf, 2)) };

  const local = localStorage(sharedPath('data/audioset/features'));
  const runs = [];
  for (let i = 0; i < 3; i++) runs.push(await clipsPerSecond(local, { prefix: 'bal_train/' }));
  const noCrc = await clipsPerSecond(local, { prefix: 'bal_train/', verifyCrc: false });
  const t0 = performance.now();
  const packed = await loadClips(local, { prefix: 'bal_train/' });
  const loadClipsSeconds = +((performance.now() - t0) / 1000).toFixed(3);

  // S3: a 500-file slice of bal_train on a local s3rver (loopback; latency, not bandwidth, dominates).
  const srv = await startS3rver();
  const s3 = s3Storage(srv.url('bench'), srv.config);
  let s3Result: Record<string, unknown>;
  try {
    const keys = (await local.list('bal_train/')).slice(0, 500);
    await Promise.all(keys.map(async (k) => s3.writeAtomic(k, await local.read(k))));
    s3Result = {
      files: keys.length,
      prefetch8: await clipsPerSecond(s3, { prefix: 'bal_train/', prefetchFiles: 8 }),
      prefetch0: await clipsPerSecond(s3, { prefix: 'bal_train/', prefetchFiles: 0 }),
    };
  } finally {
    s3.close();
    await srv.stop();
  }

  return {
    crc32c: crc,
    balTrainLocal: { clips: runs[0]!.clips, medianClipsPerSecond: median(runs.map((r) => r.clipsPerSecond)), runs },
    balTrainLocalNoCrc: noCrc,
    loadClips: { clips: packed.count, seconds: loadClipsSeconds, xBytes: packed.x.length, yBytes: packed.y.length },
    s3rver: s3Result,
    note: 'single-threaded JS; 2-core machine shared with other engineers: numbers are noisy',
  };
}
