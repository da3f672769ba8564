import { resolve } from 'node:path';

import type { LabelInfo, Tagger, TaggerSession } from '../classify/contracts.js';
import type { Config } from '../config/schema.js';
import { EarshotError } from '../errors.js';
import type { Patch } from '../features/contracts.js';
import { applyHead } from './head.js';
import { type CustomModel, readCustomModel } from './modeldir.js';

/** Custom labels carry their calibrated thresholds (LabelInfo.defaults) into the event stage. */
function labelsOf(m: CustomModel, offset: number): LabelInfo[] {
  return m.labels.map((l, i) => {
    const t = m.manifest.thresholds[l.name];
    return { index: offset + i, id: l.id, name: l.name, ...(t ? { defaults: t } : {}) };
  });
}

/** The base tagger's model identity, when it exposes its manifest (YAMNet does). */
function baseIdentity(t: Tagger): { architecture?: string; sha?: string } {
  const m = (t as { manifest?: { architecture?: string; weights?: { sha256?: string } } }).manifest;
  return { architecture: m?.architecture, sha: m?.weights?.sha256 };
}

/** The head's base must be the model producing the embeddings: same architecture and weights. */
export function checkBase(t: Tagger, m: CustomModel): void {
  const id = baseIdentity(t);
  if (id.architecture !== m.manifest.base.architecture || (id.sha && id.sha !== m.manifest.base.weightsSha256)) {
    throw new EarshotError(
      'CONFIG_INVALID',
      `custom model ${m.dir} was trained on ${m.manifest.base.architecture} (${m.manifest.base.dir}); the source's tagger is ${t.name} (${id.architecture ?? 'unknown architecture'}${id.sha && id.sha !== m.manifest.base.weightsSha256 ? ', other weights' : ''}): run it on that base or retrain with --base`,
      { dir: m.dir, base: m.manifest.base.dir, tagger: t.name },
    );
  }
}

/**
 * The base tagger plus custom heads on the same embedding pass: labels are the base's
 * followed by each model's, scores likewise, so custom labels reach events, history,
 * clips and MQTT like any other label. `onlyCustom` drops the base's labels (`earshot
 * tag --model MODELDIR`). The base tagger is owned (disposed) by the result.
 */
export function withCustomHeads(base: Tagger, models: readonly CustomModel[], o: { onlyCustom?: boolean } = {}): Tagger {
  if (models.length === 0) return base;
  for (const m of models) checkBase(base, m);
  const baseCount = o.onlyCustom ? 0 : base.labels.length;
  const labels: LabelInfo[] = o.onlyCustom ? [] : [...base.labels];
  for (const m of models) labels.push(...labelsOf(m, labels.length));
  const total = labels.length;
  const score = (scores: Float32Array, embedding: Float32Array): Float32Array => {
    const out = new Float32Array(total);
    if (!o.onlyCustom) out.set(scores);
    let at = baseCount;
    for (const m of models) {
      if (embedding.length !== m.head.inputDim)
        throw new EarshotError('MODEL_SHAPE_MISMATCH', `custom model ${m.dir} takes ${m.head.inputDim}-d embeddings, ${base.name} gave ${embedding.length}`, { dir: m.dir });
      out.set(applyHead(m.head, embedding, 1), at);
      at += m.head.classes;
    }
    return out;
  };
  return {
    name: o.onlyCustom ? models.map((m) => m.manifest.name).join('+') : `${base.name}+${models.map((m) => m.manifest.name).join('+')}`,
    labels,
    frontend: base.frontend,
    backend: base.backend,
    ...(base.patches ? { patches: base.patches } : {}),
    openSession(): TaggerSession {
      const s = base.openSession();
      if (!s.tagWithEmbedding) throw new EarshotError('MODEL_INVALID', `${base.name} gives no embeddings; custom heads need an embedding model`, { tagger: base.name });
      const run = async (p: Patch) => {
        const r = await s.tagWithEmbedding!(p);
        return { scores: score(r.scores, r.embedding), embedding: r.embedding };
      };
      return { tag: async (p) => (await run(p)).scores, tagWithEmbedding: run };
    },
    dispose: () => base.dispose(),
  };
}

/** Reads `models.custom` directories (relative to the working directory). */
export function readCustomModels(dirs: readonly string[]): CustomModel[] {
  return dirs.map((d) => readCustomModel(resolve(d)));
}

/** A custom model directory as a tagger of its own labels only, on its recorded base (or `baseDir`). */
export async function loadCustomModelTagger(dir: string, config: Config, baseDir?: string): Promise<Tagger> {
  const m = readCustomModel(dir);
  const { loadYamnetTagger } = await import('../models/yamnet/tagger.js');
  const base = await loadYamnetTagger(baseDir ?? m.manifest.base.dir, config.engine);
  try {
    return withCustomHeads(base, [m], { onlyCustom: true });
  } catch (e) {
    await base.dispose();
    throw e;
  }
}
