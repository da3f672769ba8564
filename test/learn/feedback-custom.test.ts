import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { decodeAudioFile } from '../../src/audio/decode.js';
import { isEarshotError } from '../../src/errors.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { fileEventFeedback } from '../../src/learn/feedback-event.js';
import { tempDir } from '../audio/tmp.js';

/** A minimal custom model dir (2-d embeddings, one class) whose data folder is `data`. */
function customModel(dir: string, data: string): void {
  mkdirSync(dir, { recursive: true });
  const manifest = {
    format: 'earshot-custom-model',
    formatVersion: 1,
    name: 'home',
    architecture: 'custom-head',
    base: { dir: '/x', architecture: 'yamnet', name: 'yamnet', weightsSha256: '0', embeddingDim: 2 },
    labels: [{ id: 'custom:home/chime', name: 'chime' }],
    thresholds: { chime: { onThreshold: 0.5, offThreshold: 0.4, minDurationSeconds: 0 } },
    falseAlarmsPerHour: 1,
    head: { file: 'head.json', hidden: 0 },
    data: { dir: data, files: 0, backgroundSeconds: 0 },
    trainedAt: '2026-01-01T00:00:00Z',
  };
  writeFileSync(`${dir}/manifest.json`, JSON.stringify(manifest));
  writeFileSync(`${dir}/head.json`, JSON.stringify({ inputDim: 2, classes: 1, hidden: 0, mean: [0, 0], std: [1, 1], w1: [1, 1], b1: [0] }));
}

test("feedback on a custom label goes to its model's data folder (what learn --update retrains from)", async (t) => {
  const tmp = tempDir('feedback-custom');
  t.after(() => tmp.cleanup());
  const data = tmp.path('data');
  customModel(tmp.path('model'), data);
  mkdirSync(tmp.path('clips'));
  // a real FLAC clip: 2 s of a 1 kHz chime
  execFileSync('sox', ['-n', '-r', '16000', '-c', '1', '-b', '16', tmp.path('clips/r_door_0_1.flac'), 'synth', '2', 'sine', '1000', 'vol', '0.5']);
  const store = new SqliteHistoryStore(tmp.path('h.sqlite'));
  t.after(() => store.close());
  const ev = (id: string, labelId: string, label: string) => ({
    id,
    stream: { kind: 'source' as const, name: 'door' },
    label,
    labelId,
    startSeconds: 1,
    endSeconds: 2,
    peakScore: 0.9,
    meanScore: 0.8,
    model: 'yamnet',
    wallStartMs: 0,
  });
  await store.write({
    segments: [],
    events: [ev('r/door:0:1', 'custom:home/chime', 'chime'), ev('r/door:0:2', 'custom:home/chime', 'chime')],
    clips: [{ id: 'r_door_0_1', eventId: 'r/door:0:1', path: 'r_door_0_1.flac', state: 'done', startSeconds: 0, endSeconds: 2, sampleRateHz: 16000, bytes: 1, error: null }],
  });
  const deps = { store: () => store, clipsDir: tmp.path('clips'), examplesDir: tmp.path('examples'), customModelDirs: [tmp.path('model')] };

  const up = await fileEventFeedback(deps, { eventId: 'r/door:0:1', correct: true });
  assert.equal(up.dataDir, data);
  assert.equal(up.class, 'chime');
  assert.deepEqual(readdirSync(`${data}/chime`), ['feedback-r_door_0_1.wav']);
  const wav = await decodeAudioFile(up.path);
  assert.equal(wav.samples.length, 32000);
  assert.ok(Math.abs(Math.max(...wav.samples) - 0.5) < 0.01, 'the clip audio, not silence');

  const down = await fileEventFeedback(deps, { eventId: 'r/door:0:1', correct: false });
  assert.deepEqual(readdirSync(`${data}/background`), ['feedback-r_door_0_1.wav']);
  assert.equal(down.class, 'background');

  await assert.rejects(
    fileEventFeedback(deps, { eventId: 'r/door:0:1', correct: true, label: 'kettle' }),
    (e) => isEarshotError(e, 'INPUT_INVALID') && /kettle/.test(e.message) && /chime/.test(e.message),
  );
  await assert.rejects(fileEventFeedback(deps, { eventId: 'r/door:0:2', correct: false }), (e) => isEarshotError(e, 'INPUT_INVALID') && /no finished clip/.test(e.message));
  await assert.rejects(fileEventFeedback(deps, { eventId: 'r/door:9:9', correct: false }), (e) => isEarshotError(e, 'EVENT_NOT_FOUND') && /r\/door:9:9/.test(e.message));
  assert.ok(!existsSync(tmp.path('examples')), 'nothing under learn.examplesDir');
});
