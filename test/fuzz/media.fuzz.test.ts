import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { decodeAudioFile } from '../../src/audio/decode.js';
import { openAudioStream } from '../../src/audio/stream.js';
import type { ErrorCode } from '../../src/errors.js';
import { rng } from '../helpers/rng.js';
import { FUZZ_CASES, mutateBytes } from './cases.js';
import { runCase, tally } from './guard.js';

/**
 * FLAC, Ogg Vorbis, Ogg Opus and MP3 under seeded mutation: real 0.4 s files from ffmpeg, edited at
 * their structures (FLAC STREAMINFO and frame headers, Ogg page headers, MP3 frame headers and the
 * first bytes of each file) and byte-wise. Each case goes through the whole-file decoder
 * (audio-decode, then ffmpeg) and, every other case, the ffmpeg stream reader `earshot tag` uses
 * for big files. Every decode spawns processes, so a suite case costs ~10x a WAV case: the normal
 * run uses FUZZ_CASES / 8 cases per format.
 */
const root = mkdtempSync(join(tmpdir(), 'earshot-fuzz-media-'));
after(() => rmSync(root, { recursive: true, force: true }));

const CASES = Math.max(2, Math.ceil(FUZZ_CASES / 8));
const ALLOWED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['AUDIO_HEADER_INVALID', 'AUDIO_DECODE_FAILED', 'AUDIO_CODEC_UNSUPPORTED', 'AUDIO_FILE_EMPTY']);

interface Seed {
  readonly name: string;
  readonly bytes: Uint8Array;
  /** Offsets where a header starts: edits land in the next HEADER_SPAN bytes. */
  readonly headers: readonly number[];
}
const HEADER_SPAN = 32;

function ffmpegFile(name: string, args: string[]): Uint8Array {
  const path = join(root, name);
  const r = spawnSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=0.4:sample_rate=44100', ...args, '-y', path]);
  assert.equal(r.status, 0, String(r.stderr));
  return readFileSync(path);
}

/** Offsets of every match of `sync` (a byte prefix, with an optional mask on its last byte). */
function find(b: Uint8Array, sync: readonly number[], lastMask = 0xff, limit = 64): number[] {
  const out = [0];
  for (let i = 1; i + sync.length <= b.length && out.length < limit; i++) {
    let hit = true;
    for (let k = 0; k < sync.length && hit; k++) hit = k === sync.length - 1 ? (b[i + k]! & lastMask) === sync[k] : b[i + k] === sync[k];
    if (hit) out.push(i);
  }
  return out;
}

const HOSTILE = [0, 1, 0x7f, 0x80, 0xfe, 0xff, 0x0f, 0xf0];

/** Structure-aware: overwrite 1-4 bytes (or a hostile 32-bit value) inside one header. */
function editHeader(s: Seed, seed: number): Uint8Array {
  const r = rng(seed);
  const b = Uint8Array.from(s.bytes);
  const at = s.headers[Math.floor(r() * s.headers.length)]!;
  if (r() < 0.25) {
    const p = Math.min(b.length - 4, at + Math.floor(r() * HEADER_SPAN));
    new DataView(b.buffer).setUint32(p, [0, 0xffffffff, 0x7fffffff, 0x80000000, 1][Math.floor(r() * 5)]!, r() < 0.5);
    return b;
  }
  for (let k = 0, n = 1 + Math.floor(r() * 4); k < n; k++) {
    const p = Math.min(b.length - 1, at + Math.floor(r() * HEADER_SPAN));
    b[p] = r() < 0.5 ? HOSTILE[Math.floor(r() * HOSTILE.length)]! : b[p]! ^ (1 << Math.floor(r() * 8));
  }
  return b;
}

async function readStreamed(file: string): Promise<void> {
  // streamAboveBytes 0: the ffmpeg pipe that big files take, not the whole-file fallback
  const s = await openAudioStream(file, { streamAboveBytes: 0 });
  try {
    let n = 0;
    for await (const block of s.blocks()) n += block.length;
    assert.ok(n >= 0);
  } finally {
    s.close();
  }
}

test(`FLAC, Ogg Vorbis, Ogg Opus, MP3: ${CASES} header edits and byte mutations per format, both readers`, async () => {
  const flac = ffmpegFile('t.flac', ['-c:a', 'flac']);
  const vorbis = ffmpegFile('t.ogg', ['-c:a', 'libvorbis', '-q:a', '2']);
  const opus = ffmpegFile('t.opus', ['-c:a', 'libopus', '-b:a', '32k']);
  const mp3 = ffmpegFile('t.mp3', ['-c:a', 'libmp3lame', '-b:a', '64k']);
  const ogg = (b: Uint8Array): number[] => find(b, [0x4f, 0x67, 0x67, 0x53]); // "OggS" page headers
  const seeds: Seed[] = [
    { name: 'flac', bytes: flac, headers: [0, 8, ...find(flac, [0xff, 0xf8], 0xfe).slice(1)] }, // magic, STREAMINFO, frames
    { name: 'vorbis', bytes: vorbis, headers: ogg(vorbis) },
    { name: 'opus', bytes: opus, headers: ogg(opus) },
    { name: 'mp3', bytes: mp3, headers: find(mp3, [0xff, 0xe0], 0xe0) }, // ID3 + frame syncs
  ];
  for (const s of seeds) assert.ok(s.headers.length > 2, `${s.name}: found ${s.headers.length} headers`);
  const outcomes: Record<string, number> = {};
  const base = process.memoryUsage().rss;
  for (const [i, s] of seeds.entries()) {
    const file = join(root, `case.${s.name}`);
    for (let seed = 1; seed <= CASES; seed++) {
      writeFileSync(file, seed % 2 ? editHeader(s, seed * 7919 + i) : mutateBytes(s.bytes, seed * 7919 + i));
      const label = `${s.name} seed ${seed}`;
      tally(
        outcomes,
        await runCase(`${label} decode`, ALLOWED, base, async () => {
          const a = await decodeAudioFile(file);
          assert.ok(a.sampleRateHz > 0 && a.channels > 0, `${label}: ${a.sampleRateHz} Hz, ${a.channels} channels`);
          assert.ok(
            a.samples.every((x) => Number.isFinite(x)),
            `${label}: non-finite samples`,
          );
        }),
      );
      if (seed % 4 < 2) tally(outcomes, await runCase(`${label} stream`, ALLOWED, base, () => readStreamed(file)));
    }
  }
  assert.ok((outcomes.ok ?? 0) > 0, JSON.stringify(outcomes));
  assert.ok(
    Object.keys(outcomes).some((k) => k !== 'ok'),
    JSON.stringify(outcomes),
  );
  console.log(`media fuzz: ${JSON.stringify(outcomes)}`);
});
