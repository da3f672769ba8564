import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import type { LabelInfo } from '../../classify/contracts.js';
import type { EngineConfig } from '../../config/sections/engine.js';
import { EarshotError } from '../../errors.js';
import { createKaldiMelFrontend, EFFICIENTAT_MEL, kaldiMelFrames, type KaldiMelFrontend, type KaldiMelParams } from '../../features/kaldi-mel.js';
import { resample } from '../../features/resample.js';
import type { EmbeddingEngine, ModelManifest } from '../contracts.js';
import { runBatched } from '../engine/index.js';
import { type ModelSpec,openModel, parseFrontend } from '../open.js';
import { type MnConfig,mnConfig, mnGraph } from './graph.js';
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

const positiveInt = z.number().int().min(1);
/** What an EfficientAT manifest's `frontend` may set: the Kaldi log-mel and the network's width. */
const efficientAtFrontendSchema = z
  .object({
    sampleRateHz: positiveInt.max(768_000),
    fftLength: positiveInt.max(65_536),
    windowLength: positiveInt.max(65_536),
    hopLength: positiveInt.max(65_536),
    melBands: positiveInt.max(512),
    fminHz: z.number().min(0),
    fmaxHz: z.number().positive(),
    preemphasis: z.number().min(0).max(1),
    logOffset: z.number().positive(),
    shift: z.number(),
    scale: z.number().positive(),
    widthMult: z.number().positive().max(4),
  })
  .strict()
  .refine((f) => f.fmaxHz > f.fminHz && f.fmaxHz <= f.sampleRateHz / 2, { message: 'fmaxHz must exceed fminHz and not exceed Nyquist', path: ['fmaxHz'] });

export type EfficientAtFrontend = KaldiMelParams & { readonly widthMult: number };

/** The manifest's frontend over the defaults (EFFICIENTAT_MEL, width 0.4), validated. */
export function efficientAtFrontend(overrides: Readonly<Record<string, number>>, dir: string): EfficientAtFrontend {
  return parseFrontend(efficientAtFrontendSchema, { ...EFFICIENTAT_MEL, widthMult: 0.4, ...overrides }, dir);
}

function netConfig(f: EfficientAtFrontend, labels: readonly LabelInfo[]): MnConfig {
  return mnConfig(f.widthMult, labels.length, f.melBands);
}

export function efficientAtSpec(dir: string): ModelSpec<EfficientAtFrontend> {
  return {
    architecture: EFFICIENTAT_ARCHITECTURE,
    graph: (m, labels) => mnGraph(netConfig(efficientAtFrontend(m.frontend ?? {}, dir), labels), WINDOW_FRAMES),
    frontend: (o) => efficientAtFrontend(o, dir),
  };
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

export async function loadEfficientAtTagger(dir: string, engine: EngineConfig): Promise<EfficientAtTagger> {
  const md = await openModel(dir, engine, efficientAtSpec(dir));
  const { widthMult: _, ...mel } = md.frontend;
  const cfg = netConfig(md.frontend, md.labels);
  // The window's engine is openModel's (cached in <dir>/cache); one-off clip lengths compile into a temp dir.
  const engines = new Map<number, Promise<EmbeddingEngine>>([[WINDOW_FRAMES, Promise.resolve(md.engine)]]);
  const batchSize = Math.max(1, engine.batchSize);
  const frontend = createKaldiMelFrontend(mel);
  let lastBackend = '';

  const engineFor = (frames: number): Promise<EmbeddingEngine> => {
    let e = engines.get(frames);
    if (!e) {
      e = md.compile(mnGraph(cfg, frames));
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
      const r = await runBatched(e, mels, count, batchSize);
      const logits = r['logits']!;
      const features = r['features']!;
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
