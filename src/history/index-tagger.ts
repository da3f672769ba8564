import type { Config } from '../config/schema.js';
import { frontendSchema } from '../config/sections/frontend.js';
import type { HistoryBatch } from './contracts.js';
import { tagFileForHistory } from './tag-file.js';

export interface TaggedFile {
  readonly batch: HistoryBatch;
  readonly durationSeconds: number;
  readonly model: string;
}

/** Decode + tag one file for the index; one per thread (the model is loaded once). */
export interface FileTagger {
  tag(path: string, streamName: string): Promise<TaggedFile>;
  dispose(): Promise<void>;
}

export async function openFileTagger(config: Config, modelDir: string): Promise<FileTagger> {
  const [{ decodeAudioFile }, { loadYamnetTagger }] = await Promise.all([import('../audio/decode.js'), import('../models/yamnet/tagger.js')]);
  // One engine thread per worker: the workers themselves fill the cores.
  const tagger = await loadYamnetTagger(modelDir, config.engine);
  const frontend = frontendSchema.parse({ ...config.frontend, ...tagger.frontend });
  const h = config.history;
  return {
    async tag(path, streamName) {
      const audio = await decodeAudioFile(path);
      const batch = await tagFileForHistory(tagger, audio.samples, audio.sampleRateHz, { kind: 'file', name: streamName }, frontend, config.events, {
        segmentSeconds: h.segmentSeconds,
        topK: h.topK,
        storeEmbeddings: h.storeEmbeddings,
      });
      return { batch, durationSeconds: audio.samples.length / audio.sampleRateHz, model: tagger.name };
    },
    dispose: () => tagger.dispose(),
  };
}
