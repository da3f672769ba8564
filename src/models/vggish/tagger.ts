/**
 * VGGish + AudioSet classifier as a Tagger: each patch is embedded, post-processed
 * exactly as the AudioSet release (PCA, 8-bit), and the session's rolling window of
 * the last 10 quantized embeddings is scored by the classifier head — the same head
 * and dequantization `earshot eval` runs on the released embeddings.
 */
import type { Tagger } from '../../classify/contracts.js';
import { loadClassifier } from '../../classify/store.js';
import { classifierSession } from '../../classify/window.js';
import type { EngineConfig } from '../../config/sections/engine.js';
import { EarshotError } from '../../errors.js';
import { embedPatches, openVggish } from './index.js';
import { dequantize, postprocess } from './postprocess.js';

export async function loadVggishClassifierTagger(vggishDir: string, classifierDir: string, engine: EngineConfig): Promise<Tagger> {
  const { head, labels } = loadClassifier(classifierDir);
  const model = await openVggish(vggishDir, engine);
  const pca = model.pca;
  if (!pca) {
    await model.engine.dispose();
    head.dispose();
    throw new EarshotError('MODEL_INVALID', `${vggishDir} has no PCA params: the classifier needs post-processed embeddings (import with --pca vggish_pca_params.npz)`, { dir: vggishDir });
  }
  return {
    name: 'vggish+classifier',
    labels,
    frontend: {},
    backend: `${model.engine.kind}/${model.engine.backend}`,
    openSession() {
      const window = classifierSession(head);
      return {
        async tag(patch) {
          const raw = await embedPatches(model.engine, patch.data, 1, 1);
          return window.score(postprocess(raw, 1, pca));
        },
        async tagWithEmbedding(patch) {
          const q = postprocess(await embedPatches(model.engine, patch.data, 1, 1), 1, pca);
          return { scores: await window.score(q), embedding: dequantize(q) };
        },
      };
    },
    async dispose() {
      head.dispose();
      await model.engine.dispose();
    },
  };
}
