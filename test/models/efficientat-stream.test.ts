import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';

import { from, lastValueFrom, toArray } from 'rxjs';

import type { AudioChunk } from '../../src/audio/contracts.js';
import { decodeAudioFile } from '../../src/audio/decode.js';
import { loadConfig } from '../../src/config/load.js';
import { frontendSchema } from '../../src/config/sections/frontend.js';
import { tagWindows } from '../../src/models/efficientat/tag-audio.js';
import { loadEfficientAtTagger } from '../../src/models/efficientat/tagger.js';
import { patchEndSeconds } from '../../src/pipeline/source-pipeline.js';
import { defaultTaggerLoader } from '../../src/pipeline/taggers.js';
import { rng } from '../helpers/rng.js';
import { projectRoot, sharedPath } from '../helpers/shared.js';

// The daemon's EfficientAT path (context windows from streamed chunks) against `tag`'s batch path.

function chunked(samples: Float32Array, rate: number, seed: number): AudioChunk[] {
  const r = rng(seed);
  const out: AudioChunk[] = [];
  for (let s = 0; s < samples.length; ) {
    const n = Math.min(samples.length - s, 1 + Math.floor(r() * 9000));
    out.push({ samples: samples.subarray(s, s + n), sampleRateHz: rate, startSample: s });
    s += n;
  }
  return out;
}

test('daemon tagger: windows from arbitrarily chunked audio score as tag\'s per-hop windows, stamped at hop ends', async () => {
  const dir = join(projectRoot, 'models', 'efficientat-mn04');
  const config = loadConfig({ overrides: { engine: { kind: 'onnx', threads: 1 }, models: { contextWindowSeconds: 3, contextHopSeconds: 0.5 } } });
  const audio = await decodeAudioFile(sharedPath('golden/efficientat/speech_en.wav'));
  const tagger = await defaultTaggerLoader(dir, config);
  const batch = await loadEfficientAtTagger(dir, config.engine);
  try {
    assert.ok(tagger.patches, 'EfficientAT brings its own frontend operator');
    const fe = frontendSchema.parse({ ...config.frontend, ...tagger.frontend });
    const patches = await lastValueFrom(from(chunked(audio.samples, audio.sampleRateHz, 3)).pipe(tagger.patches(fe), toArray()));
    const ref = await tagWindows(batch, audio.samples, audio.sampleRateHz, { windowSeconds: 3, hopSeconds: 0.5 });
    // 4.13 s: 8 whole hops and a last partial one.
    assert.equal(patches.length, 9);
    assert.equal(ref.count, 9);
    const session = tagger.openSession();
    const classes = tagger.labels.length;
    for (const [i, p] of patches.entries()) {
      assert.equal(p.frames, 300);
      const end = Math.min(0.5 * (i + 1), audio.samples.length / audio.sampleRateHz);
      assert.ok(Math.abs(patchEndSeconds(p, fe) - end) < 1e-9, `window ${i} ends at ${patchEndSeconds(p, fe)}, expected ${end}`);
      const scores = await session.tag(p);
      const want = ref.scores.subarray(i * classes, (i + 1) * classes);
      let d = 0;
      for (let c = 0; c < classes; c++) d = Math.max(d, Math.abs(scores[c]! - want[c]!));
      assert.ok(d < 1e-5, `window ${i}: scores differ by ${d}`);
    }
    const speech = tagger.labels.findIndex((l) => l.name === 'Speech');
    const last = await session.tag(patches[patches.length - 1]!);
    assert.ok(last[speech]! > 0.5, `Speech ${last[speech]} in the last window`);
  } finally {
    await tagger.dispose();
    await batch.dispose();
  }
});
