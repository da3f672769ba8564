import type { ModelInfo, SourceState, SourceView } from '../../src/server/protocol.js';

/** A source as the server sees it (ServerContext.sources), for servers started without a daemon. */
export function view(id: string, kind: string, model: ModelInfo, state: SourceState = 'up', extra: Partial<SourceView> = {}): SourceView {
  return { id, kind, model, status: { sourceId: id, state, restarts: 0, backend: model.backend }, lastAudioAt: null, streamSeconds: 0, ...extra };
}
