import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';

import { run } from '../e2e/daemon-process.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

/**
 * Search quality on recordings nobody here made: espeak-ng voices and the
 * freedesktop sound theme (Debian packages espeak-ng, sound-theme-freedesktop).
 * The ground truth is written from what the recordings are, before any model output:
 * - speech: espeak-ng sentences in several voices, and the theme's audio-channel-*
 *   sounds (a voice naming the channel: "front left", ...);
 * - telephone: the theme's phone-incoming-call, phone-outgoing-calling, phone-outgoing-busy.
 */
const THEME = '/usr/share/sounds/freedesktop/stereo';
const isSpeech = (f: string) => /\/speech\/|audio-channel-/.test(f);
const isPhone = (f: string) => /phone-(incoming|outgoing)-/.test(f);

let root = '';
let model = '';
let db = '';
const env = { EARSHOT__MODELS__ONTOLOGYPATH: sharedPath('data/audioset/metadata/ontology.json') };

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'earshot-search-'));
  model = join(root, 'yamnet');
  const imp = await runCli(['models', 'import', 'yamnet', sharedPath('models/yamnet/yamnet.tflite'), '--out', model]);
  assert.equal(imp.code, 0, imp.stderr);
  const arch = join(root, 'archive');
  mkdirSync(join(arch, 'speech', 'more'), { recursive: true });
  mkdirSync(join(arch, 'theme'), { recursive: true });
  const text = 'The weather will be cloudy in the morning, with rain arriving from the west in the afternoon.';
  for (const v of ['en', 'en-us+f3', 'de', 'fr', 'es', 'it']) run('espeak-ng', ['-v', v, '-w', join(arch, 'speech', v.includes('+') ? `more/${v}.wav` : `${v}.wav`), text]);
  run('espeak-ng', ['-v', 'nl', '-w', join(root, 'held-out-speech.wav'), 'Tomorrow we will meet again at the station near the old market.']);
  for (const f of readdirSync(THEME)) copyFileSync(join(THEME, f), join(arch, 'theme', f));
  writeFileSync(join(arch, 'theme', 'corrupt.flac'), 'fLaC but not really a flac file');
  db = join(root, 'history.sqlite');
});

after(() => rmSync(root, { recursive: true, force: true }));

function lines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('index: recursive, every file once, a corrupt file reported and skipped (exit 1); a second run skips unchanged files', async () => {
  const first = await runCli(['index', join(root, 'archive'), '--db', db, '--model', model, '--workers', '2'], { timeoutMs: 600_000 });
  assert.equal(first.code, 1, first.stderr);
  assert.match(first.stderr, /failed \[[A-Z_]+\] .*corrupt\.flac/);
  const total = 6 + readdirSync(THEME).length;
  assert.match(first.stderr, new RegExp(`indexed ${total}, skipped 0 unchanged, failed 1`));
  const again = await runCli(['index', join(root, 'archive', '**', '*.wav'), join(root, 'archive', 'theme'), '--db', db, '--model', model, '--workers', '1'], { timeoutMs: 600_000 });
  assert.match(again.stderr, new RegExp(`indexed 0, skipped ${total} unchanged, failed 1`));
});

test('keyword search: precision@5 >= 0.8 for labels the model detects; the resolution comes first', async () => {
  for (const [q, truth] of [
    ['speech', isSpeech],
    ['telephone', isPhone],
  ] as const) {
    const r = await runCli(['search', q, '--db', db, '--limit', '5', '--json'], { env });
    assert.equal(r.code, 0, r.stderr);
    const [head, ...hits] = lines(r.stdout);
    assert.equal(head!.type, 'query');
    assert.ok((head!.labels as { label: string }[]).length >= 1);
    assert.equal(hits.length, 5);
    const precision = hits.filter((h) => truth(String(h.file))).length / 5;
    assert.ok(precision >= 0.8, `${q}: precision@5 ${precision}: ${hits.map((h) => basename(String(h.file))).join(', ')}`);
    const scores = hits.map((h) => Number(h.score));
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
      'ranked by score',
    );
  }
  // A parent label covers its branch: "dog" resolves to Dog, Bark, Howl, Growling...
  const dog = await runCli(['search', 'dog', '--db', db, '--json'], { env });
  const names = (lines(dog.stdout)[0]!.labels as { label: string }[]).map((l) => l.label);
  for (const n of ['Dog', 'Bark', 'Howl', 'Growling', 'Bow-wow']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
});

test('search --like: a recording returns recordings of the same kind first, itself excluded', async () => {
  // A voice that is not in the index: embedded on the fly.
  const held = await runCli(['search', '--like', join(root, 'held-out-speech.wav'), '--db', db, '--model', model, '--limit', '5', '--json']);
  assert.equal(held.code, 0, held.stderr);
  const hits = lines(held.stdout);
  assert.equal(hits.length, 5);
  assert.ok(
    hits.every((h) => isSpeech(String(h.file))),
    hits.map((h) => h.file).join(', '),
  );
  // An indexed phone sound: the other phone sounds come first, never the query file itself.
  const q = join(root, 'archive', 'theme', 'phone-outgoing-calling.oga');
  const phone = lines((await runCli(['search', '--like', q, '--db', db, '--limit', '3', '--json'])).stdout);
  assert.ok(phone.every((h) => h.file !== q));
  assert.ok(phone.filter((h) => isPhone(String(h.file))).length >= 2, phone.map((h) => h.file).join(', '));
  // By event id, and a bad one names the parameter.
  const ev = lines((await runCli(['events', '--db', db, '--label', 'Speech', '--limit', '1', '--json'], { env })).stdout)[0]!;
  assert.equal(ev.label, 'Speech');
  const byEvent = lines((await runCli(['search', '--like', String(ev.id), '--db', db, '--limit', '3', '--json'])).stdout);
  assert.ok(byEvent.every((h) => isSpeech(String(h.file))));
  const bad = await runCli(['search', '--like', 'no-such-event', '--db', db]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error \[INPUT_INVALID\]: --like 'no-such-event' is neither/);
});
