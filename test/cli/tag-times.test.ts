import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { importYamnet } from '../../src/models/yamnet/import.js';
import { runCli } from '../helpers/cli.js';
import { sharedPath } from '../helpers/shared.js';

/** `earshot tag --json` times: every line names the window it describes, clipped to the file. */
let root = '';
let model = '';
before(() => {
  root = mkdtempSync(join(tmpdir(), 'earshot-tagtimes-'));
  model = join(root, 'yamnet');
  importYamnet({ tflitePath: sharedPath('models/yamnet/yamnet.tflite'), outDir: model });
  // speech from the first sample (espeak's lead-in trimmed), no silence after it
  const r = spawnSync('espeak-ng', ['-w', join(root, 'raw.wav'), 'Hello, this is a test of the earshot audio tagger, speaking from the very start.']);
  assert.equal(r.status, 0);
  const s = spawnSync('sox', [join(root, 'raw.wav'), '-r', '16000', join(root, 'speech.wav'), 'silence', '1', '0.01', '1%']);
  assert.equal(s.status, 0, String(s.stderr));
});
after(() => rmSync(root, { recursive: true, force: true }));

test('tag --json: hops and events carry start/end within the file; speech at 0 s starts at 0', async () => {
  const soxi = spawnSync('soxi', ['-D', join(root, 'speech.wav')], { encoding: 'utf8' });
  const duration = Number(soxi.stdout.trim());
  assert.ok(duration > 2, `speech lasts ${duration} s`);
  const r = await runCli(['tag', join(root, 'speech.wav'), '--model', model, '--json', '--top', '3']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type?: string; label?: string; t: number; start: number; end: number });
  const hops = lines.filter((l) => l.type === 'scores');
  assert.ok(hops.length > 3);
  for (const h of hops) {
    assert.equal(h.t, h.start, 'tag keeps t = window start');
    assert.ok(h.end > h.start && h.end <= duration + 1e-6 && h.end - h.start <= 0.975 + 1e-6, JSON.stringify(h));
  }
  assert.ok(Math.abs(hops.at(-1)!.end - duration) < 1e-3, 'the padded last hop ends at the end of the file');
  const speech = lines.filter((l) => l.label === 'Speech');
  assert.deepEqual(
    speech.map((e) => e.type),
    ['event.start', 'event.end'],
    JSON.stringify(speech),
  );
  assert.equal(speech[0]!.start, 0, 'onset attributed to the first window, not one hop later');
  assert.ok(speech[1]!.end <= duration + 1e-6 && speech[1]!.t === speech[1]!.end, `event ends at ${speech[1]!.end} in a ${duration} s file`);
});
