import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { importYamnet } from '../../src/models/yamnet/import.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

/**
 * `earshot tag` over several inputs (issue #20, gap 5): files, a directory, `-` (stdin,
 * encoded or --raw), --summary, --csv; a failing input is reported and the rest go on.
 * Real YAMNet, espeak-ng speech and a sox sine.
 */
let root = '';
let model = '';
let dir = '';
const sh = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

type Line = { file?: string; type?: string; t?: number; start: number; end: number; label?: string; top: Array<{ label: string; id: string; score: number }> };
const parse = (out: string): Line[] =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);

before(() => {
  root = mkdtempSync(join(tmpdir(), 'earshot-taginputs-'));
  model = join(root, 'yamnet');
  importYamnet({ tflitePath: sharedPath('models/yamnet/yamnet.tflite'), outDir: model });
  dir = join(root, 'clips');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  sh('espeak-ng', ['-w', join(root, 'raw.wav'), 'Good morning, this is a test of tagging many files at once with earshot.']);
  sh('sox', [join(root, 'raw.wav'), '-r', '16000', '-b', '16', '-c', '1', join(dir, 'speech.wav')]);
  sh('sox', ['-n', '-r', '22050', '-c', '2', join(dir, 'sine.wav'), 'synth', '3', 'sine', '1000']);
  sh('sox', [join(dir, 'speech.wav'), join(dir, 'sub', 'speech.flac')]);
  writeFileSync(join(dir, 'notes.txt'), 'not audio');
  writeFileSync(join(root, 'corrupt.mp3'), Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919) % 251)));
});
after(() => rmSync(root, { recursive: true, force: true }));

test('--summary over a directory: one line per audio file naming it, equal to --clip; text names the files too', async () => {
  const r = await runCli(['tag', dir, '--model', model, '--summary', '--json', '--top', '3']);
  assert.equal(r.code, 0, r.stderr);
  const lines = parse(r.stdout);
  assert.deepEqual(
    lines.map((l) => l.file),
    [join(dir, 'sine.wav'), join(dir, 'speech.wav'), join(dir, 'sub', 'speech.flac')],
    'recursive, sorted, notes.txt skipped',
  );
  for (const l of lines) {
    assert.equal(l.type, 'summary');
    assert.equal(l.start, 0);
    assert.equal(l.top.length, 3);
  }
  const duration = Number(sh('soxi', ['-D', join(dir, 'speech.wav')]).trim());
  assert.ok(Math.abs(lines[1]!.end - duration) < 1e-3, `summary end ${lines[1]!.end} = duration ${duration}`);
  assert.ok(
    lines[0]!.top.some((t) => t.label === 'Sine wave'),
    JSON.stringify(lines[0]),
  );
  assert.equal(lines[1]!.top[0]!.label, 'Speech');
  assert.deepEqual(lines[2]!.top, lines[1]!.top, 'lossless FLAC of the same speech: the same summary');

  const clip = await runCli(['tag', join(dir, 'speech.wav'), '--model', model, '--clip', '--json', '--top', '3']);
  assert.equal(clip.code, 0, clip.stderr);
  assert.deepEqual(parse(clip.stdout)[0]!.top, lines[1]!.top, '--summary is the --clip prediction');

  const text = await runCli(['tag', dir, '--model', model, '--summary', '--top', '1']);
  assert.equal(text.code, 0, text.stderr);
  const rows = text.stdout.trim().split('\n');
  assert.equal(rows.length, 3);
  assert.match(rows[1]!, new RegExp(`^${join(dir, 'speech.wav').replace(/[.]/g, '\\.')} \\(\\d+\\.\\d\\d s\\): Speech 0\\.\\d{3}$`));
});

test('several files: a missing and a corrupt one are reported, the others are tagged, exit 2', async () => {
  const files = [join(dir, 'speech.wav'), join(root, 'missing.wav'), join(root, 'corrupt.mp3'), join(dir, 'sine.wav')];
  const r = await runCli(['tag', ...files, '--model', model, '--json', '--top', '2']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error \[AUDIO_FILE_NOT_FOUND\]: .*missing\.wav/);
  assert.match(r.stderr, /error \[AUDIO_[A-Z_]+\]: .*corrupt\.mp3/);
  assert.match(r.stderr, /tag: 2 of 4 inputs failed/);
  const lines = parse(r.stdout);
  assert.deepEqual([...new Set(lines.map((l) => l.file))], [files[0], files[3]], 'one block per good file, in order');
  const speechHops = lines.filter((l) => l.file === files[0] && l.type === 'scores');
  assert.ok(speechHops.length > 3);
  assert.ok(speechHops.every((h) => h.top[0]!.label === 'Speech'));
  assert.ok(lines.some((l) => l.file === files[0] && l.type === 'event.start' && l.label === 'Speech'));

  // stdin, encoded (FLAC through ffmpeg) and headerless s16le: the same hops as the file.
  const single = await runCli(['tag', files[0]!, '--model', model, '--json', '--top', '2']);
  assert.equal(single.code, 0, single.stderr);
  assert.ok(
    parse(single.stdout).every((l) => l.file === undefined),
    'one input: lines keep their single-file shape',
  );
  const stripped = lines.filter((l) => l.file === files[0]).map(({ file: _f, ...rest }) => rest);
  assert.deepEqual(parse(single.stdout), stripped);
  const flac = await runCli(['tag', '-', '--model', model, '--json', '--top', '2'], { input: readFileSync(join(dir, 'sub', 'speech.flac')) });
  assert.equal(flac.code, 0, flac.stderr);
  assert.deepEqual(parse(flac.stdout), stripped);
  const pcm = spawnSync('sox', [join(dir, 'speech.wav'), '-t', 'raw', '-e', 'signed', '-b', '16', '-']).stdout;
  const raw = await runCli(['tag', '-', '--raw', 's16le', '--rate', '16000', '--model', model, '--json', '--top', '2'], { input: pcm });
  assert.equal(raw.code, 0, raw.stderr);
  assert.deepEqual(parse(raw.stdout), stripped);
  const empty = await runCli(['tag', '-', '--model', model], { input: Buffer.alloc(0) });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /^error \[AUDIO_/);
});

/** Minimal RFC 4180 reader for the test (quoted fields with commas and doubled quotes). */
function csvRows(text: string): string[][] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const out: string[] = [];
      let cur = '';
      let q = false;
      for (let i = 0; i < line.length; i++) {
        const c = line[i]!;
        if (q && c === '"' && line[i + 1] === '"') ((cur += '"'), i++);
        else if (c === '"') q = !q;
        else if (c === ',' && !q) (out.push(cur), (cur = ''));
        else cur += c;
      }
      out.push(cur);
      return out;
    });
}

test('--csv: one header, a row per label of each hop and per event, for every file', async () => {
  const files = [join(dir, 'speech.wav'), join(dir, 'sine.wav')];
  const [csv, json] = await Promise.all([runCli(['tag', ...files, '--model', model, '--csv', '--top', '2']), runCli(['tag', ...files, '--model', model, '--json', '--top', '2'])]);
  assert.equal(csv.code, 0, csv.stderr);
  const rows = csvRows(csv.stdout);
  assert.deepEqual(rows[0], ['file', 'type', 'start', 'end', 'rank', 'label', 'id', 'score']);
  const body = rows.slice(1);
  assert.ok(
    body.every((r) => r.length === 8),
    'every row has 8 fields (labels with commas are quoted)',
  );
  const lines = parse(json.stdout);
  const hops = lines.filter((l) => l.type === 'scores');
  const expected = hops.flatMap((h) => h.top.map((t, i) => [h.file, 'hop', String(h.start), String(h.end), String(i + 1), t.label, t.id, String(t.score)]));
  assert.deepEqual(
    body.filter((r) => r[1] === 'hop'),
    expected,
  );
  const events = lines.filter((l) => l.type?.startsWith('event.')).map((e) => [e.file, e.type, e.label]);
  assert.deepEqual(
    body.filter((r) => r[1]!.startsWith('event.')).map((r) => [r[0], r[1], r[5]]),
    events,
  );
  assert.ok(body.some((r) => r[5]!.includes(',')) || !hops.some((h) => h.top.some((t) => t.label.includes(','))), 'comma labels survive quoting');
});
