import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EarshotError } from '../../errors.js';
import type { EngineConfig } from '../../config/sections/engine.js';
import type { LabelInfo } from '../../classify/contracts.js';
import type { EmbeddingEngine, ModelManifest, Weights } from '../contracts.js';
import { modelCacheDir, readModelDir } from '../modeldir.js';
import { createEngine, engineOptions } from '../engine/index.js';
import { createKaldiMelFrontend, EFFICIENTAT_MEL, kaldiMelFrames, type KaldiMelFrontend, type KaldiMelParams } from '../../features/kaldi-mel.js';
import { resample } from '../../features/resample.js';
import { mnConfig, mnGraph, type MnConfig } from './graph.js';
import { WINDOW_FRAMES } from './import.js';

export const EFFICIENTAT_ARCHITECTURE = 'efficientat-mn';

export interface EfficientAtScores {
  /** [count, classes] sigmoid(logits). */
  readonly scores: Float32Array;
  /** [count, classes] raw logits. */
  readonly logits: Float32Array;
  /** [count, lastConv] pooled features. */
  readonly features: Float32Array;
  readonly count: number;
}

/**
 * An EfficientAT model directory opened on an engine. The network takes any number of
 * frames, but each engine compiles one fixed input shape: engines are made per frame
 * count on first use and kept (the 10 s window's graph is cached in `<dir>/cache`;
 * one-off clip lengths compile into a temp dir).
 */
export interface EfficientAtTagger {
  readonly name: string;
  readonly manifest: ModelManifest;
  readonly labels: readonly LabelInfo[];
  readonly mel: KaldiMelParams;
  readonly frontend: KaldiMelFrontend;
  readonly config: MnConfig;
  /** Frames of the window the model was trained on (10 s). */
  readonly windowFrames: number;
  backend(): string;
  /** Log-mel [melBands, frames] of a waveform at any rate (resampled to the model's rate). */
  logMel(samples: Float32Array, sampleRateHz: number): { data: Float32Array; frames: number };
  /** `count` log-mels of `frames` frames each, packed back to back. */
  scoreMels(mels: Float32Array, frames: number, count: number): Promise<EfficientAtScores>;
  dispose(): Promise<void>;
}

/** True when `dir` holds an EfficientAT model directory (a missing or other directory is not an error here). */
export function isEfficientAtDir(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { architecture?: unknown }).architecture === EFFICIENTAT_ARCHITECTURE;
  } catch {
    return false;
  }
}

export function melParamsOf(m: ModelManifest): KaldiMelParams {
  const f = m.frontend ?? {};
  const out: Record<string, number> = { ...EFFICIENTAT_MEL };
  for (const k of Object.keys(EFFICIENTAT_MEL)) if (typeof f[k] === 'number') out[k] = f[k]!;
  return out as unknown as KaldiMelParams;
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export async function loadEfficientAtTagger(dir: string, engine: EngineConfig): Promise<EfficientAtTagger> {
  const md = readModelDir(dir);
  if (md.manifest.architecture !== EFFICIENTAT_ARCHITECTURE) throw new EarshotError('MODEL_INVALID', `${dir} holds a '${md.manifest.architecture}' model, not ${EFFICIENTAT_ARCHITECTURE}`, { dir });
  const widthMult = md.manifest.frontend?.['widthMult'] ?? 0.4;
  const mel = melParamsOf(md.manifest);
  const cfg = mnConfig(widthMult, md.labels.length, mel.melBands);
  const weights: Weights = md.weights;
  const cacheDir = modelCacheDir(dir);
  const engines = new Map<number, Promise<EmbeddingEngine>>();
  const batchSize = Math.max(1, engine.batchSize);
  const frontend = createKaldiMelFrontend(mel);
  let lastBackend = '';

  const engineFor = (frames: number): Promise<EmbeddingEngine> => {
    let e = engines.get(frames);
    if (!e) {
      const cache = frames === WINDOW_FRAMES && cacheDir ? { cacheDir } : {};
      e = createEngine(mnGraph(cfg, frames), weights, engineOptions(engine, { weightsDigest: md.manifest.weights.sha256, ...cache }));
      engines.set(frames, e);
    }
    return e;
  };

  return {
    name: md.manifest.name,
    manifest: md.manifest,
    labels: md.labels,
    mel,
    frontend,
    config: cfg,
    windowFrames: WINDOW_FRAMES,
    backend: () => lastBackend,
    logMel(samples, sampleRateHz) {
      const x = sampleRateHz === mel.sampleRateHz ? samples : resample(samples, sampleRateHz, mel.sampleRateHz);
      if (kaldiMelFrames(x.length, mel) === 0) throw new EarshotError('INPUT_INVALID', `audio of ${samples.length} samples is too short for one ${mel.hopLength}-sample frame`, { samples: samples.length });
      return frontend.compute(x);
    },
    async scoreMels(mels, frames, count) {
      const per = mel.melBands * frames;
      if (mels.length !== per * count) throw new EarshotError('INPUT_INVALID', `log-mels hold ${mels.length} values, expected ${count} x ${mel.melBands} x ${frames}`);
      const e = await engineFor(frames);
      lastBackend = `${e.kind}/${e.backend}`;
      const classes = cfg.classes;
      const logits = new Float32Array(count * classes);
      const features = new Float32Array(count * cfg.lastConv);
      for (let start = 0; start < count; start += batchSize) {
        const n = Math.min(batchSize, count - start);
        const r = await e.run(mels.subarray(start * per, (start + n) * per), n);
        logits.set(r['logits']!, start * classes);
        features.set(r['features']!, start * cfg.lastConv);
      }
      const scores = logits.map(sigmoid);
      return { scores, logits, features, count };
    },
    async dispose() {
      const all = await Promise.allSettled(engines.values());
      engines.clear();
      await Promise.all(all.map((r) => (r.status === 'fulfilled' ? r.value.dispose() : undefined)));
    },
  };
}
