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
 * WAV headers under seeded mutation: real files from sox (16-bit mono, 24-bit stereo, 32-bit float,
 * 8-bit) edited byte-wise and field-wise (sample rate, byte rate, channels, block align, bits,
 * format tag, chunk sizes set to hostile values). Both readers (whole-file decode and the streamed
 * reader `earshot tag` uses) must end in samples or a typed AUDIO_* error, within the per-case
 * time and RSS limits of guard.ts.
 */
const root = mkdtempSync(join(tmpdir(), 'earshot-fuzz-wav-'));
after(() => rmSync(root, { recursive: true, force: true }));

const ALLOWED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['AUDIO_HEADER_INVALID', 'AUDIO_DECODE_FAILED', 'AUDIO_CODEC_UNSUPPORTED', 'AUDIO_FILE_EMPTY']);

function soxWav(name: string, args: string[]): Uint8Array {
  const path = join(root, name);
  const r = spawnSync('sox', ['-n', ...args, path, 'synth', '0.5', 'sine', '440']);
  assert.equal(r.status, 0, String(r.stderr));
  return readFileSync(path);
}

/** Offsets of the canonical 44-byte header's fields (sox writes fmt first; WAVE_FORMAT_EXTENSIBLE shifts data). */
const FIELDS: readonly { at: number; bytes: 2 | 4 }[] = [
  { at: 4, bytes: 4 }, // RIFF size
  { at: 16, bytes: 4 }, // fmt size
  { at: 20, bytes: 2 }, // format tag
  { at: 22, bytes: 2 }, // channels
  { at: 24, bytes: 4 }, // sample rate
  { at: 28, bytes: 4 }, // byte rate
  { at: 32, bytes: 2 }, // block align
  { at: 34, bytes: 2 }, // bits per sample
  { at: 40, bytes: 4 }, // data size (canonical layout)
];
const HOSTILE = [0, 1, 2, 3, 7, 8, 0xff, 0xfffe, 0xffff, 999, 44100, 10_000_000, 0x7fffffff, 0xffffffff];

function editField(src: Uint8Array, seed: number): Uint8Array {
  const r = rng(seed);
  const b = Uint8Array.from(src);
  const dv = new DataView(b.buffer);
  for (let k = 0, n = 1 + Math.floor(r() * 2); k < n; k++) {
    const f = FIELDS[Math.floor(r() * FIELDS.length)]!;
    const v = HOSTILE[Math.floor(r() * HOSTILE.length)]!;
    if (f.bytes === 2) dv.setUint16(f.at, v & 0xffff, true);
    else dv.setUint32(f.at, v >>> 0, true);
  }
  return b;
}

async function readStreamed(file: string): Promise<void> {
  const s = await openAudioStream(file);
  let n = 0;
  for await (const block of s.blocks()) n += block.length;
  assert.ok(n >= 0);
}

test(`WAV headers: ${FUZZ_CASES} field edits and ${FUZZ_CASES} byte mutations per file, both readers`, async () => {
  const seeds = [
    soxWav('s16.wav', ['-r', '16000', '-c', '1', '-b', '16']),
    soxWav('s24.wav', ['-r', '44100', '-c', '2', '-b', '24']),
    soxWav('f32.wav', ['-r', '22050', '-c', '1', '-e', 'floating-point', '-b', '32']),
    soxWav('u8.wav', ['-r', '8000', '-c', '1', '-b', '8']),
  ];
  const file = join(root, 'case.wav');
  const outcomes: Record<string, number> = {};
  const base = process.memoryUsage().rss;
  const perFile = Math.max(1, Math.ceil(FUZZ_CASES / seeds.length));
  for (const [i, original] of seeds.entries()) {
    for (let seed = 1; seed <= 2 * perFile; seed++) {
      const bytes = seed <= perFile ? editField(original, seed * 7919 + i) : mutateBytes(original, seed * 7919 + i);
      writeFileSync(file, bytes);
      const label = `file ${i} seed ${seed}`;
      tally(
        outcomes,
        await runCase(`${label} decode`, ALLOWED, base, async () => {
          const a = await decodeAudioFile(file);
          assert.ok(
            a.samples.every((x) => Number.isFinite(x)),
            `${label}: non-finite samples`,
          );
        }),
      );
      tally(outcomes, await runCase(`${label} stream`, ALLOWED, base, () => readStreamed(file)));
    }
  }
  assert.ok((outcomes.AUDIO_HEADER_INVALID ?? 0) > 0, JSON.stringify(outcomes));
  assert.ok((outcomes.ok ?? 0) > 0, JSON.stringify(outcomes));
  console.log(`wav fuzz: ${JSON.stringify(outcomes)}`);
});
