import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { isEarshotError } from '../../src/errors.js';
import { parseLabelsCsv } from '../../src/models/modeldir.js';
import { loadOntology } from '../../src/server/ontology.js';
import { parseClientMessage, type SubscribeMessage } from '../../src/server/protocol.js';
import { resolveSubscription } from '../../src/server/subscription.js';
import { sharedPath } from '../helpers/shared.js';

const labels = parseLabelsCsv(readFileSync(sharedPath('data/audioset/metadata/class_labels_indices.csv'), 'utf8'));
const ontology = loadOntology(sharedPath('data/audioset/metadata/ontology.json'));
const bySource = new Map([['mic', labels]]);
const sub = (labelTerms: string[]) => parseClientMessage(JSON.stringify({ type: 'subscribe', labels: labelTerms })) as SubscribeMessage;

test('subscription label names match case-insensitively; ontology parents too', () => {
  const s = resolveSubscription(sub(['speech', 'SINE WAVE']), bySource, undefined, 5);
  assert.deepEqual([...s.sources.get('mic')!.ids!].sort(), ['/m/01v_m0', '/m/09x0r']);
  const voice = resolveSubscription(sub(['human voice']), bySource, ontology, 5);
  assert.ok(voice.sources.get('mic')!.ids!.has('/m/09x0r'), 'a parent name in any case selects its descendants');
});

test('a label matching nothing is an error suggesting the closest label or ontology name', () => {
  assert.throws(
    () => resolveSubscription(sub(['Speach']), bySource, ontology, 5),
    (e) => isEarshotError(e, 'PROTOCOL_ERROR') && /"Speach" \(did you mean "Speech"\?\)/.test(e.message),
  );
  assert.throws(
    () => resolveSubscription(sub(['Human voise']), bySource, ontology, 5),
    (e) => isEarshotError(e, 'PROTOCOL_ERROR') && /did you mean "Human voice"\?/.test(e.message),
  );
  assert.throws(
    () => resolveSubscription(sub(['qqqqqqqqqq']), bySource, undefined, 5),
    (e) => isEarshotError(e, 'PROTOCOL_ERROR') && !/did you mean/.test(e.message),
  );
});
