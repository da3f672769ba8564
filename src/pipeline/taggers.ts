import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

import type { Tagger } from '../classify/contracts.js';
import { isModelType } from '../classify/net.js';
import type { Config } from '../config/schema.js';
import type { SourceConfig } from '../config/sections/sources.js';
import { EarshotError } from '../errors.js';
import { resolveModelDir } from '../models/packaged.js';

/** Loads the tagger stored in a model directory; the daemon injects it (tests may pass fakes). */
export type TaggerLoader = (dir: string, config: Config) => Promise<Tagger>;

/**
 * The model directory a source uses: its own `modelDir`, else the configured tagger's.
 * `auto` takes VGGish + classifier when both directories hold a model, else YAMNet.
 */
export function modelDirFor(src: SourceConfig, config: Config): string {
  if (src.modelDir) return src.modelDir;
  const m = config.models;
  const vggishReady = existsSync(join(m.vggishDir, 'manifest.json')) && existsSync(join(m.classifierDir, 'manifest.json'));
  if (m.tagger === 'vggish' || (m.tagger === 'auto' && vggishReady)) return m.classifierDir;
  if (m.tagger === 'efficientat') return resolveModelDir(m.efficientatDir);
  // The package ships models/yamnet: a default relative path falls back to it from any working directory.
  return resolveModelDir(m.yamnetDir);
}

/** Architecture recorded in `<dir>/manifest.json`, so a per-source modelDir picks its loader. */
export function modelArchitecture(dir: string): string {
  let text: string;
  try {
    text = readFileSync(join(dir, 'manifest.json'), 'utf8');
  } catch {
    throw new EarshotError('MODEL_NOT_FOUND', `no model directory at ${resolve(dir)} (manifest.json missing); import one with \`earshot models import yamnet <yamnet.tflite> --out ${dir}\``, { dir });
  }
  try {
    return String((JSON.parse(text) as { architecture?: unknown }).architecture);
  } catch {
    throw new EarshotError('MODEL_INVALID', `${join(dir, 'manifest.json')} is not JSON`, { dir });
  }
}

/**
 * YAMNet directories score patches themselves; a classifier directory runs over VGGish (models.vggishDir).
 * `models.custom` heads join the loaded tagger (same embedding pass, see src/learn/custom-tagger.ts).
 */
export async function defaultTaggerLoader(dir: string, config: Config): Promise<Tagger> {
  const tagger = await loadBaseTagger(dir, config);
  if (config.models.custom.length === 0) return tagger;
  try {
    const { readCustomModels, withCustomHeads } = await import('../learn/custom-tagger.js');
    return withCustomHeads(tagger, readCustomModels(config.models.custom));
  } catch (e) {
    await tagger.dispose();
    throw e;
  }
}

async function loadBaseTagger(dir: string, config: Config): Promise<Tagger> {
  const arch = modelArchitecture(dir);
  if (arch === 'custom-head') {
    const { loadCustomModelTagger } = await import('../learn/custom-tagger.js');
    return loadCustomModelTagger(dir, config);
  }
  if (arch === 'yamnet') {
    const { loadYamnetTagger } = await import('../models/yamnet/tagger.js');
    return loadYamnetTagger(dir, config.engine);
  }
  if (arch === 'efficientat-mn') {
    const { loadEfficientAtStreamTagger } = await import('../models/efficientat/stream-tagger.js');
    return loadEfficientAtStreamTagger(dir, config);
  }
  if (isModelType(arch)) {
    const { loadVggishClassifierTagger } = await import('../models/vggish/tagger.js');
    return loadVggishClassifierTagger(config.models.vggishDir, dir, config.engine);
  }
  throw new EarshotError('MODEL_INVALID', `${dir} holds a '${arch}' model; the daemon runs yamnet or classifier model directories`, { dir, architecture: arch });
}

/**
 * One tagger per distinct model directory, shared by the sources using it (each
 * source opens its own session). On failure, the taggers already loaded are freed.
 */
export async function loadTaggers(sources: readonly SourceConfig[], config: Config, load: TaggerLoader): Promise<Map<string, Tagger>> {
  const byDir = new Map<string, Tagger>();
  try {
    for (const s of sources) {
      const dir = modelDirFor(s, config);
      if (!byDir.has(dir)) byDir.set(dir, await load(dir, config));
    }
  } catch (e) {
    await Promise.all([...byDir.values()].map((t) => t.dispose()));
    throw e;
  }
  return byDir;
}
