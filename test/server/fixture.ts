import { readFileSync } from 'node:fs';

import { serverSchema } from '../../src/config/sections/server.js';
import type { LabelEvent } from '../../src/events/contracts.js';
import { parseLabelsCsv } from '../../src/models/modeldir.js';
import { createMetrics } from '../../src/server/metrics.js';
import { loadOntology } from '../../src/server/ontology.js';
import { ProtocolServer, type ServerContext, type SourceView } from '../../src/server/server.js';
import { sharedPath } from '../helpers/shared.js';
import { view } from './views.js';

/** AudioSet's 527 labels and ontology, as a real classifier directory has them. */
export const labels = parseLabelsCsv(readFileSync(sharedPath('data/audioset/metadata/class_labels_indices.csv'), 'utf8'));
export const ontology = loadOntology(sharedPath('data/audioset/metadata/ontology.json'));
export const SPEECH = labels.find((l) => l.name === 'Speech')!;

/** A real ProtocolServer on 127.0.0.1:0 over two sources a (file) and b (mic) with `labels`. */
export async function startTestServer(over: Record<string, unknown> = {}, views?: SourceView[]) {
  const metrics = createMetrics();
  const model = { name: 'fake', backend: 'fake', labels };
  const ctx: ServerContext = {
    version: '0.0.0-test',
    metrics,
    ontology,
    // without `views`: a up, b not started yet
    sources: () => views ?? [view('a', 'file', model), view('b', 'mic', model, 'starting')],
    defaultTopK: 5,
    nowMs: () => Date.now(),
  };
  const server = await ProtocolServer.start(serverSchema.parse({ port: 0, ...over }), ctx);
  const { port } = server.address;
  return { server, metrics, url: `ws://127.0.0.1:${port}/`, http: `http://127.0.0.1:${port}` };
}

export function speechEvent(type: LabelEvent['type'], n: number): LabelEvent {
  return { type, id: `a:${SPEECH.index}:${n}`, sourceId: 'a', label: SPEECH.name, labelId: SPEECH.id, tSeconds: n, startSeconds: n, endSeconds: n, score: 0.9 };
}
