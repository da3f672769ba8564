import type { Tagger, TaggerSession } from '../../classify/contracts.js';
import type { EngineConfig } from '../../config/sections/engine.js';
import type { FrontendConfig } from '../../config/sections/frontend.js';
import { EarshotError } from '../../errors.js';
import type { Patch } from '../../features/contracts.js';
import type { EmbeddingEngine, ModelManifest } from '../contracts.js';
import { runBatched } from '../engine/index.js';
import { logMelFrontend, type ModelSpec,openModel } from '../open.js';
import { YAMNET_CLASSES, YAMNET_MEL_BANDS, YAMNET_PATCH_FRAMES, yamnetGraph, yamnetWeightShapes } from './graph.js';
import { YAMNET_FRONTEND } from './import.js';

const PATCH_VALUES = YAMNET_PATCH_FRAMES * YAMNET_MEL_BANDS;

/** yamnet/params.py: the frontend geometry the network was trained on (same as VGGish's). */
export const YAMNET_INPUT_FRONTEND = {
  sampleRateHz: 16000,
  stftWindowSeconds: 0.025,
  stftHopSeconds: 0.01,
  melBands: YAMNET_MEL_BANDS,
  melMinHz: 125,
  melMaxHz: 7500,
  patchFrames: YAMNET_PATCH_FRAMES,
} as const;

export interface YamnetOutputs {
  /** [count, 521] sigmoid scores. */
  readonly scores: Float32Array;
  /** [count, 1024] embeddings (global average of the last conv layer). */
  readonly embeddings: Float32Array;
}

/** The Tagger plus a batch path for whole files (one engine call per `batchSize` patches). */
export interface YamnetTagger extends Tagger {
  readonly manifest: ModelManifest;
  readonly engine: EmbeddingEngine;
  readonly batchSize: number;
  /** `count` patches of 96x64 log-mel packed back to back. */
  scorePatches(patches: Float32Array, count: number): Promise<YamnetOutputs>;
}


function checkPatch(p: Patch): void {
  if (p.frames !== YAMNET_PATCH_FRAMES || p.bands !== YAMNET_MEL_BANDS || p.data.length !== PATCH_VALUES) {
    throw new EarshotError('INPUT_INVALID', `YAMNet needs ${YAMNET_PATCH_FRAMES}x${YAMNET_MEL_BANDS} patches, patch ${p.index} is ${p.frames}x${p.bands} (${p.data.length} values)`, { patch: p.index });
  }
}

/**
 * Opens an imported YAMNet model directory (`earshot models import yamnet`) on
 * the configured engine. Each session scores patches independently (YAMNet has
 * no temporal state), so sessions are cheap and share the engine.
 */
export function yamnetSpec(dir: string): ModelSpec<Partial<FrontendConfig>> {
  return {
    architecture: 'yamnet',
    kind: 'yamnet',
    graph: yamnetGraph,
    // The network's input geometry is not negotiable, whatever config.frontend says;
    // logOffset and patchHopSeconds come from the manifest (a user may edit the hop).
    frontend: logMelFrontend(dir, { ...YAMNET_INPUT_FRONTEND, ...YAMNET_FRONTEND }),
    checkLabels(labels) {
      if (labels.length !== YAMNET_CLASSES) throw new EarshotError('MODEL_INVALID', `${dir}: ${labels.length} labels, YAMNet scores ${YAMNET_CLASSES} classes`, { dir });
    },
    checkWeights(weights) {
      for (const s of yamnetWeightShapes()) {
        const w = weights.get(s.name);
        if (!w) throw new EarshotError('MODEL_UNKNOWN_VARIABLE', `${dir}: YAMNet weight ${s.name} is missing`, { dir, tensor: s.name });
        if (w.shape.join() !== s.shape.join()) throw new EarshotError('MODEL_SHAPE_MISMATCH', `${dir}: ${s.name} is [${w.shape.join(',')}], YAMNet needs [${s.shape.join(',')}]`, { dir, tensor: s.name });
      }
    },
  };
}

export async function loadYamnetTagger(dir: string, engine: EngineConfig): Promise<YamnetTagger> {
  const md = await openModel(dir, engine, yamnetSpec(dir));
  const e = md.engine;
  const batchSize = Math.max(1, engine.batchSize);

  const scorePatches = async (patches: Float32Array, count: number): Promise<YamnetOutputs> => {
    if (patches.length !== count * PATCH_VALUES) throw new EarshotError('INPUT_INVALID', `patches hold ${patches.length} values, expected ${count} x ${YAMNET_PATCH_FRAMES} x ${YAMNET_MEL_BANDS}`);
    const r = await runBatched(e, patches, count, batchSize);
    return { scores: r.scores!, embeddings: r.embedding! };
  };

  return {
    name: md.manifest.name,
    labels: md.labels,
    frontend: md.frontend,
    backend: `${e.kind}/${e.backend}`,
    manifest: md.manifest,
    engine: e,
    batchSize,
    scorePatches,
    openSession(): TaggerSession {
      return {
        async tag(patch: Patch): Promise<Float32Array> {
          checkPatch(patch);
          const r = await e.run(patch.data, 1);
          return r.scores!;
        },
        async tagWithEmbedding(patch: Patch) {
          checkPatch(patch);
          const r = await e.run(patch.data, 1);
          return { scores: r.scores!, embedding: r.embedding! };
        },
      };
    },
    dispose: () => e.dispose(),
  };
}
