import type { Config } from '../config/schema.js';
import { type FrontendConfig, frontendSchema } from '../config/sections/frontend.js';
import { EarshotError } from '../errors.js';
import { readManifest } from '../models/modeldir.js';
import { YAMNET_EMBEDDING_DIM } from '../models/yamnet/graph.js';
import { tagWaveform } from '../models/yamnet/tag-audio.js';
import { loadYamnetTagger, type YamnetTagger } from '../models/yamnet/tagger.js';

/**
 * The frozen base model as learn uses it: whole waveforms at `rateHz` in, one embedding
 * per window (`windowSeconds` every `hopSeconds`, starting at 0) out, batched through the
 * engine exactly as `earshot tag` scores files, so the daemon's live embeddings match.
 */
export interface Embedder {
  readonly dim: number;
  readonly rateHz: number;
  readonly hopSeconds: number;
  readonly windowSeconds: number;
  /** Window start to its last sample (patch frames plus the STFT window's tail): frames are stamped at start + this. */
  readonly spanSeconds: number;
  readonly base: { readonly dir: string; readonly architecture: string; readonly name: string; readonly weightsSha256: string };
  embed(samples: Float32Array): Promise<{ embeddings: Float32Array; startSeconds: readonly number[]; count: number }>;
  dispose(): Promise<void>;
}

export async function openEmbedder(dir: string, config: Config): Promise<Embedder> {
  const arch = readManifest(dir, 'yamnet').architecture;
  if (arch !== 'yamnet')
    throw new EarshotError('MODEL_INVALID', `--base ${dir} holds a '${arch}' model; custom heads are trained on YAMNet embeddings (the daemon's default tagger)`, { dir, architecture: arch });
  const tagger: YamnetTagger = await loadYamnetTagger(dir, config.engine);
  const fe: FrontendConfig = frontendSchema.parse({ ...config.frontend, ...tagger.frontend });
  return {
    dim: YAMNET_EMBEDDING_DIM,
    rateHz: fe.sampleRateHz,
    hopSeconds: Math.round(fe.patchHopSeconds / fe.stftHopSeconds) * fe.stftHopSeconds,
    windowSeconds: fe.patchFrames * fe.stftHopSeconds,
    spanSeconds: (fe.patchFrames - 1) * fe.stftHopSeconds + fe.stftWindowSeconds,
    base: { dir, architecture: arch, name: tagger.manifest.name, weightsSha256: tagger.manifest.weights.sha256 },
    async embed(samples) {
      const r = await tagWaveform(tagger, samples, fe.sampleRateHz, fe);
      return { embeddings: r.embeddings, startSeconds: r.startSeconds, count: r.count };
    },
    dispose: () => tagger.dispose(),
  };
}
