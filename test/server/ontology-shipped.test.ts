import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';

import { parseConfig } from '../../src/config/load.js';
import { logMelPatches } from '../../src/features/patches.js';
import { startDaemon } from '../../src/pipeline/daemon.js';
import { pacedAudio } from '../../src/pipeline/paced-file.js';
import { loadOntology, ontologyPathFor, SHIPPED_ONTOLOGY_PATH } from '../../src/server/ontology.js';
import { sharedPath } from '../helpers/shared.js';
import { energyTagger, toneBursts } from '../pipeline/fakes.js';
import { TestClient } from './wsclient.js';

test('the AudioSet ontology ships with the package (with its license note) and is the default', () => {
  assert.equal(ontologyPathFor(''), SHIPPED_ONTOLOGY_PATH);
  assert.equal(ontologyPathFor('none'), undefined);
  assert.equal(ontologyPathFor('/x/o.json'), '/x/o.json');
  assert.deepEqual(readFileSync(SHIPPED_ONTOLOGY_PATH), readFileSync(sharedPath('data/audioset/metadata/ontology.json')), 'an unmodified copy');
  assert.match(readFileSync(SHIPPED_ONTOLOGY_PATH.replace(/ontology\.json$/, 'README.md'), 'utf8'), /CC BY-SA 4\.0/);
  assert.ok(existsSync(SHIPPED_ONTOLOGY_PATH));
  assert.ok(loadOntology(SHIPPED_ONTOLOGY_PATH).descendants('Human voice').has('/m/09x0r'));
});

test('with the default config a client can subscribe to a parent label ("Human voice")', async (t) => {
  const labels = [
    { index: 0, id: '/m/09x0r', name: 'Speech' },
    { index: 1, id: '/m/04rlf', name: 'Music' },
  ];
  const audio = toneBursts(16000, [[2, 0.5]]);
  const d = await startDaemon(parseConfig({ sources: [{ id: 'a', kind: 'file', path: 'a.wav', loop: true, realtime: false }], server: { port: 0 } }), {
    version: 'test',
    openSource: () => pacedAudio(async () => ({ samples: audio, sampleRateHz: 16000, channels: 1 }), { loop: true }),
    loadTagger: async () => ({ ...energyTagger(), labels }),
    patches: logMelPatches,
  });
  t.after(() => d.stop());
  const c = await TestClient.connect(`ws://127.0.0.1:${d.address.port}/`);
  t.after(() => c.close());
  const ack = await c.request({ type: 'subscribe', labels: ['Human voice'] }, 'subscribed');
  assert.deepEqual(ack.sources, [{ source: 'a', labels: 1 }], JSON.stringify(ack));
});
