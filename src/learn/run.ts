import { resolve } from 'node:path';

import type { Config } from '../config/schema.js';
import { EarshotError } from '../errors.js';
import type { CustomModelManifest } from './contracts.js';
import { readDataset } from './dataset.js';
import { openEmbedder } from './embed.js';
import { DEFAULT_LEARN, learnFromDataset, type LearnOptions } from './learn.js';
import { customLabelId, defaultModelName, readCustomModel, writeCustomModel } from './modeldir.js';
import type { LearnReport } from './report.js';

export interface LearnJob {
  readonly dataDir: string;
  readonly outDir: string;
  readonly baseDir: string;
  readonly name?: string;
  readonly config: Config;
  readonly options?: Partial<Omit<LearnOptions, 'config'>>;
}

/** `earshot learn`: dataset -> custom model directory. Returns the manifest and the report. */
export async function runLearn(job: LearnJob): Promise<{ manifest: CustomModelManifest; report: LearnReport }> {
  const opts: LearnOptions = { ...DEFAULT_LEARN, ...job.options, config: job.config };
  const emb = await openEmbedder(job.baseDir, job.config);
  try {
    const ds = await readDataset(job.dataDir, emb.rateHz, () => opts.onProgress?.('read', 0, 0));
    const out = await learnFromDataset(ds, emb, opts);
    const name = job.name ?? defaultModelName(job.outDir);
    const manifest: CustomModelManifest = {
      format: 'earshot-custom-model',
      formatVersion: 1,
      name,
      architecture: 'custom-head',
      base: { ...emb.base, dir: resolve(emb.base.dir), embeddingDim: emb.dim },
      labels: ds.classes.map((c) => ({ id: customLabelId(name, c.name), name: c.name })),
      thresholds: out.thresholds,
      falseAlarmsPerHour: opts.budgetPerHour,
      head: { file: 'head.json', hidden: out.head.hidden },
      data: { dir: ds.dir, files: ds.classes.reduce((n, c) => n + c.recordings.length, 0) + ds.background.length, backgroundSeconds: out.report.backgroundSeconds },
      trainedAt: new Date().toISOString(),
    };
    await writeCustomModel(job.outDir, manifest, out.head, out.report);
    return { manifest, report: out.report };
  } finally {
    await emb.dispose();
  }
}

/** `earshot learn --update MODELDIR`: retrain from the data folder and base recorded in its manifest (feedback adds files there). */
export async function updateModel(modelDir: string, config: Config, options?: LearnJob['options']): Promise<{ manifest: CustomModelManifest; report: LearnReport }> {
  const m = readCustomModel(modelDir).manifest;
  if (!m.data?.dir) throw new EarshotError('MODEL_INVALID', `${modelDir}: manifest names no data folder to retrain from`, { dir: modelDir });
  return runLearn({ dataDir: m.data.dir, outDir: modelDir, baseDir: m.base.dir, name: m.name, config, options: { budgetPerHour: m.falseAlarmsPerHour, ...options } });
}
