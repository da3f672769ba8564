import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';

import type { LabelInfo, Tagger } from '../../src/classify/contracts.js';
import { parseConfig } from '../../src/config/load.js';
import type { Patch } from '../../src/features/contracts.js';
import { logMelPatches } from '../../src/features/patches.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { startDaemon } from '../../src/pipeline/daemon.js';
import { pacedAudio } from '../../src/pipeline/paced-file.js';
import { tempDir } from '../audio/tmp.js';
import { rng } from '../helpers/rng.js';

const RATE = 16000;

/**
 * A stand-in model with an ontology Speech label: "Speech" scores high when the
 * patch's low mel bands (< ~400 Hz) are loud, "Glass" when its bands around 3 kHz
 * are; the embedding is the mean log-mel per band. The frontend feeding it is the real one.
 */
const labels: LabelInfo[] = [
  { index: 0, id: '/m/09x0r', name: 'Speech' },
  { index: 1, id: '/m/039jq', name: 'Glass' },
];
function bandTagger(): Tagger {
  const band = (p: Patch, a: number, b: number) => {
    let s = 0;
    for (let f = 0; f < p.frames; f++) for (let k = a; k < b; k++) s += p.data[f * p.bands + k]!;
    return s / (p.frames * (b - a));
  };
  const scores = (p: Patch) => Float32Array.from([band(p, 0, 12) > -2 ? 0.9 : 0.02, band(p, 36, 48) > -2 ? 0.9 : 0.02]);
  return {
    name: 'band',
    labels,
    frontend: { patchHopSeconds: 0.48 },
    backend: 'fake/cpu',
    openSession: () => ({
      tag: async (p) => scores(p),
      tagWithEmbedding: async (p) => ({ scores: scores(p), embedding: Float32Array.from({ length: p.bands }, (_, k) => band(p, k, k + 1)) }),
    }),
    dispose: async () => undefined,
  };
}

/** Quiet noise with tones: [start, seconds, Hz]. */
function audio(seconds: number, tones: [number, number, number][]): Float32Array {
  const r = rng(3);
  const out = Float32Array.from({ length: seconds * RATE }, () => (r() - 0.5) * 0.001);
  for (const [start, len, hz] of tones) for (let i = Math.round(start * RATE); i < Math.round((start + len) * RATE); i++) out[i]! += 0.3 * Math.sin((2 * Math.PI * hz * i) / RATE);
  return out;
}

async function runDaemon(dir: string, src: Float32Array, dropSpeech: boolean) {
  const config = parseConfig({
    stateDir: dir,
    sources: [{ id: 'hall', kind: 'file', path: 'in.wav', realtime: false }],
    server: { port: 0 },
    supervision: { stopBudgetSeconds: 60 },
    privacy: { dropSpeech },
    clips: { preRollSeconds: 1, postRollSeconds: 1, ringMarginSeconds: 60 },
  });
  const db = `${dir}/history.sqlite`;
  const d = await startDaemon(config, {
    version: 'test',
    openSource: () => pacedAudio(async () => ({ samples: src, sampleRateHz: RATE, channels: 1 }), { loop: false }),
    loadTagger: async () => bandTagger(),
    patches: logMelPatches,
    history: { path: db, clipsDir: `${dir}/clips` },
  });
  await d.finished;
  await d.stop();
  return new SqliteHistoryStore(db, { readonly: true });
}

test('privacy.dropSpeech: a clip overlapping speech is not kept, one clear of it is; segments with speech store no embedding', async (t) => {
  const tmp = tempDir('clips-privacy');
  t.after(() => tmp.cleanup());
  // Glass alone at 3 s; at 12 s speech (250 Hz) with glass (3 kHz) inside it.
  const src = audio(20, [
    [3, 1.5, 3000],
    [12, 3, 250],
    [12.5, 1.5, 3000],
  ]);
  for (const drop of [false, true]) {
    const store = await runDaemon(tmp.path(String(drop)), src, drop);
    t.after(() => store.close());
    const { events } = await store.events({ limit: 50 });
    const glass = events.filter((e) => e.label === 'Glass').sort((a, b) => a.startSeconds - b.startSeconds);
    const speech = events.filter((e) => e.label === 'Speech');
    assert.equal(glass.length, 2, `two glass events (${drop})`);
    assert.equal(speech.length, 1, `one speech event (${drop})`);
    const clipOf = async (id: string) => (await store.clipsOf(id)).filter((c) => c.state === 'done');
    const files = readdirSync(tmp.path(`${drop}/clips`)).filter((f) => f.endsWith('.flac'));
    assert.equal((await clipOf(glass[0]!.id)).length, 1, 'the glass clear of speech keeps its clip');
    const segs = await store.searchLabels({ labelIds: ['/m/09x0r'], minScore: 0.5, limit: 100 });
    assert.ok(segs.length >= 2);
    if (!drop) {
      assert.equal((await clipOf(glass[1]!.id)).length, 1, 'without dropSpeech the glass inside speech has a clip');
      assert.equal((await clipOf(speech[0]!.id)).length, 1);
      assert.equal(files.length, 3);
      assert.ok(await store.eventEmbedding(speech[0]!.id), 'and speech segments have embeddings');
      continue;
    }
    assert.deepEqual(await clipOf(glass[1]!.id), [], 'the glass inside speech gets no clip');
    assert.deepEqual(await clipOf(speech[0]!.id), [], 'speech itself gets no clip');
    assert.equal(files.length, 1, `only one clip file on disk: ${files.join(' ')}`);
    assert.equal(await store.eventEmbedding(speech[0]!.id), undefined, 'no segment the speech event spans has an embedding');
    assert.ok(await store.eventEmbedding(glass[0]!.id), 'segments without speech keep theirs');
  }
});
