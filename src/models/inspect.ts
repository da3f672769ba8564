import { resolve } from 'node:path';

import type { ModelsConfig } from '../config/sections/models.js';
import { toEarshotError } from '../errors.js';
import { modelFixCommand, type ModelKind,readModelDir } from './modeldir.js';

/** What `earshot models inspect DIR` reports: the manifest checked against the weights (sha256 verified). */
export interface ModelSummary {
  readonly dir: string;
  readonly name: string;
  readonly architecture: string;
  readonly version: string;
  readonly weights: { readonly file: string; readonly sha256: string; readonly tensors: number; readonly parameters: number; readonly bytes: number };
  readonly input: { readonly name: string; readonly shape: readonly number[] };
  readonly outputs: ReadonlyArray<{ readonly name: string; readonly shape: readonly number[] }>;
  readonly labels: { readonly count: number; readonly first: readonly string[] };
  readonly frontend?: Readonly<Record<string, number>>;
  readonly extras?: Readonly<Record<string, string>>;
  readonly provenance?: Readonly<Record<string, unknown>>;
}

export function inspectModelDir(dir: string): ModelSummary {
  const md = readModelDir(dir);
  const m = md.manifest;
  let parameters = 0;
  for (const t of md.weights.values()) parameters += t.data.length;
  return {
    dir: resolve(dir),
    name: m.name,
    architecture: m.architecture,
    version: m.version,
    weights: { file: m.weights.file, sha256: m.weights.sha256, tensors: md.weights.size, parameters, bytes: parameters * 4 },
    input: { name: m.input.name, shape: m.input.shape },
    outputs: m.outputs.map((o) => ({ name: o.name, shape: o.shape })),
    labels: { count: md.labels.length, first: md.labels.slice(0, 5).map((l) => l.name) },
    ...(m.frontend ? { frontend: m.frontend } : {}),
    ...(m.extras ? { extras: m.extras } : {}),
    ...(m.provenance ? { provenance: m.provenance } : {}),
  };
}

/** One configured model directory as `earshot models list` shows it. */
export interface ModelListing {
  readonly kind: ModelKind;
  readonly dir: string;
  readonly status: 'installed' | 'missing' | 'invalid';
  readonly summary?: ModelSummary;
  /** Why it is missing or invalid, with the command that fixes it. */
  readonly problem?: string;
}

export function listConfiguredModels(models: ModelsConfig): { entries: ModelListing[]; tagger: 'yamnet' | 'vggish' | 'none' } {
  const dirs: Array<[ModelKind, string]> = [
    ['yamnet', models.yamnetDir],
    ['vggish', models.vggishDir],
    ['classifier', models.classifierDir],
  ];
  const entries = dirs.map(([kind, dir]): ModelListing => {
    if (dir === '') return { kind, dir, status: 'missing', problem: `models.${kind}Dir is empty; ${modelFixCommand(kind, `models/${kind}`)}` };
    try {
      return { kind, dir, status: 'installed', summary: inspectModelDir(dir) };
    } catch (e) {
      const err = toEarshotError(e);
      return err.code === 'MODEL_NOT_FOUND' ? { kind, dir, status: 'missing', problem: modelFixCommand(kind, dir) } : { kind, dir, status: 'invalid', problem: `${err.code}: ${err.message}` };
    }
  });
  const ok = (k: ModelKind) => entries.find((e) => e.kind === k)?.status === 'installed';
  // Same rule as models.tagger: auto (src/pipeline/taggers.ts).
  const tagger = models.tagger === 'vggish' || (models.tagger === 'auto' && ok('vggish') && ok('classifier')) ? 'vggish' : ok('yamnet') || models.tagger === 'yamnet' ? 'yamnet' : 'none';
  return { entries, tagger };
}
