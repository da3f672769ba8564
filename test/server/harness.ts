import { readFileSync } from 'node:fs';

import { serverSchema } from '../../src/config/sections/server.js';
import type { ScoreFrame } from '../../src/events/contracts.js';
import { parseLabelsCsv } from '../../src/models/modeldir.js';
import { createMetrics } from '../../src/server/metrics.js';
import { ProtocolServer, type ServerContext } from '../../src/server/server.js';
import { sharedPath } from '../helpers/shared.js';
import { view } from './views.js';

/** A real ProtocolServer on 127.0.0.1:random with one fake source 'a' carrying the 527 AudioSet labels. */
export const labels = parseLabelsCsv(readFileSync(sharedPath('data/audioset/metadata/class_labels_indices.csv'), 'utf8'));

export async function startTestServer(over: Record<string, unknown> = {}) {
  const metrics = createMetrics();
  const model = { name: 'fake', backend: 'fake', labels };
  const ctx: ServerContext = {
    version: '0.0.0-test',
    metrics,
    sources: () => [view('a', 'file', model)],
    defaultTopK: 5,
    nowMs: () => Date.now(),
  };
  const server = await ProtocolServer.start(serverSchema.parse({ port: 0, ...over }), ctx);
  const { port } = server.address;
  return { server, metrics, url: `ws://127.0.0.1:${port}/`, http: `http://127.0.0.1:${port}` };
}

/** A scores frame for source 'a' with every label at a distinct score (so topK 1000 messages are ~25 kB). */
export function fullFrame(t: number): ScoreFrame {
  const scores = new Float32Array(labels.length).map((_, i) => 0.01 + (i % 97) / 100);
  return { sourceId: 'a', tSeconds: t, scores, labels };
}

/** Value of an unlabelled counter/gauge in the Prometheus text exposition. */
export function promValue(text: string, name: string): number {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`${name} not in /metrics`);
  return Number(m[1]);
}
