import { existsSync } from 'node:fs';
import { join } from 'node:path';

import type { z } from 'zod';

import type { LabelInfo } from '../classify/contracts.js';
import { formatIssues } from '../config/load.js';
import type { EngineConfig } from '../config/sections/engine.js';
import { type FrontendConfig,frontendSchema } from '../config/sections/frontend.js';
import { EarshotError } from '../errors.js';
import type { EmbeddingEngine, ModelGraph, ModelManifest, Weights } from './contracts.js';
import { createEngine, createEngineLazy, type EngineOptions,engineOptions } from './engine/index.js';
import { modelCacheDir, type ModelKind,readLabels, readManifest, readWeights, weightsStamp } from './modeldir.js';

/** What one architecture asks of a model directory; each model folder exports one. */
export interface ModelSpec<F> {
  readonly architecture: string;
  /** Names the command that creates the directory in MODEL_NOT_FOUND messages. */
  readonly kind?: ModelKind;
  /** The graph the engine compiles. */
  graph(manifest: ModelManifest, labels: readonly LabelInfo[]): ModelGraph;
  /** Validates `manifest.frontend` (absent: {}) and returns the frontend the model runs with. */
  frontend(overrides: Readonly<Record<string, number>>): F;
  /** Checks the labels against the network (runs on every open). */
  checkLabels?(labels: readonly LabelInfo[], dir: string): void;
  /** Checks the weights against the network; runs when the weights are read (a cached start does not read them). */
  checkWeights?(weights: Weights, dir: string): void;
}

export interface OpenedModel<F> {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly labels: readonly LabelInfo[];
  readonly frontend: F;
  readonly engine: EmbeddingEngine;
  /** The verified weights, read on the first call. */
  weights(): Weights;
  /** Another graph over the same weights (e.g. another input length), compiled into a temp dir. */
  compile(graph: ModelGraph): Promise<EmbeddingEngine>;
}

/** Parses manifest frontend overrides with `schema`; a bad value is MODEL_INVALID naming the key. */
export function parseFrontend<S extends z.ZodType>(schema: S, value: unknown, dir: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new EarshotError('MODEL_INVALID', `${join(dir, 'manifest.json')} frontend: ${formatIssues(r.error, value)}`, { dir });
  return r.data;
}

/**
 * Overrides of config.frontend that a log-mel model's manifest may carry, checked as a whole
 * frontend (unknown keys, ranges, mel range within Nyquist) over `defaults` and the schema's.
 */
export function logMelFrontend(dir: string, defaults: Partial<FrontendConfig> = {}): (o: Readonly<Record<string, number>>) => Partial<FrontendConfig> {
  return (o) => {
    parseFrontend(frontendSchema, { ...defaults, ...o }, dir);
    return { ...defaults, ...o } as Partial<FrontendConfig>;
  };
}

/**
 * Opens a model directory on the configured engine, the one way every architecture does:
 * the manifest and its frontend overrides are validated, the labels read, and the engine
 * served from `<dir>/cache` while weights.bin's stamp (inode, size, mtime) is unchanged;
 * otherwise weights.bin is read, verified (sha256, the spec's checks) and compiled there.
 */
export async function openModel<F>(dir: string, engineConfig: EngineConfig, spec: ModelSpec<F>, tuning: Pick<EngineOptions, 'spinning'> = {}): Promise<OpenedModel<F>> {
  const manifest = readManifest(dir, spec.kind);
  if (manifest.architecture !== spec.architecture) throw new EarshotError('MODEL_INVALID', `${dir} holds a '${manifest.architecture}' model, not ${spec.architecture}`, { dir });
  const frontend = spec.frontend(manifest.frontend ?? {});
  const labels = readLabels(dir, manifest);
  spec.checkLabels?.(labels, dir);
  let weights: Weights | undefined;
  const load = (): Weights => {
    if (!weights) {
      const w = readWeights(dir, manifest);
      spec.checkWeights?.(w, dir);
      weights = w;
    }
    return weights;
  };
  const weightsDigest = manifest.weights.sha256;
  const cacheDir = existsSync(join(dir, manifest.weights.file)) ? modelCacheDir(dir) : undefined;
  const opts = engineOptions(engineConfig, { ...tuning, weightsDigest });
  const graph = spec.graph(manifest, labels);
  const engine = cacheDir ? await createEngineLazy(graph, load, { ...opts, cacheDir, cacheStamp: weightsStamp(dir, manifest), weightsDigest }) : await createEngine(graph, load(), opts);
  return { dir, manifest, labels, frontend, engine, weights: load, compile: (g) => createEngine(g, load(), opts) };
}
