import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

import type { LabelInfo } from '../classify/contracts.js';
import { EarshotError } from '../errors.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import type { CustomModelManifest, HeadWeights } from './contracts.js';
import { type LearnReport, reportMarkdown, reportSvg } from './report.js';

export interface CustomModel {
  readonly dir: string;
  readonly manifest: CustomModelManifest;
  readonly head: HeadWeights;
  /** Label table of the custom classes: ids `custom:<model>/<class>`, names the class folders. */
  readonly labels: readonly LabelInfo[];
}

export function customLabelId(model: string, cls: string): string {
  return `custom:${model}/${cls}`;
}

export function isCustomModelDir(dir: string): boolean {
  try {
    return (JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { architecture?: unknown }).architecture === 'custom-head';
  } catch {
    return false;
  }
}

const enc = (s: string) => new TextEncoder().encode(s);

function headJson(h: HeadWeights): string {
  const arr = (a: Float32Array | undefined) => (a ? Array.from(a, (v) => Number(v.toPrecision(7))) : undefined);
  return JSON.stringify({ inputDim: h.inputDim, classes: h.classes, hidden: h.hidden, mean: arr(h.mean), std: arr(h.std), w1: arr(h.w1), b1: arr(h.b1), w2: arr(h.w2), b2: arr(h.b2) });
}

/** manifest.json, head.json and report.{json,md,svg}; each file is replaced atomically (a daemon may be reading them). */
export async function writeCustomModel(dir: string, manifest: CustomModelManifest, head: HeadWeights, report: LearnReport): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'head.json'), enc(headJson(head)));
  await writeFileAtomic(join(dir, 'report.json'), enc(JSON.stringify(report, null, 2) + '\n'));
  await writeFileAtomic(join(dir, 'report.md'), enc(reportMarkdown(report)));
  await writeFileAtomic(join(dir, 'report.svg'), enc(reportSvg(report)));
  await writeFileAtomic(join(dir, 'manifest.json'), enc(JSON.stringify(manifest, null, 2) + '\n'));
}

export function defaultModelName(outDir: string): string {
  return basename(resolve(outDir));
}

function floats(dir: string, v: unknown, name: string, length: number): Float32Array {
  if (!Array.isArray(v) || v.length !== length || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new EarshotError('MODEL_INVALID', `${join(dir, 'head.json')}: ${name} must be ${length} finite numbers`, { dir, tensor: name });
  }
  return Float32Array.from(v as number[]);
}

/** Reads and checks a custom model directory (`earshot learn --out`). */
export function readCustomModel(dir: string): CustomModel {
  const mpath = join(dir, 'manifest.json');
  if (!existsSync(mpath)) throw new EarshotError('MODEL_NOT_FOUND', `no custom model at ${resolve(dir)} (manifest.json missing); create one with \`earshot learn --data DIR --out ${dir}\``, { dir });
  let manifest: CustomModelManifest;
  let raw: Record<string, unknown>;
  try {
    manifest = JSON.parse(readFileSync(mpath, 'utf8')) as CustomModelManifest;
    raw = JSON.parse(readFileSync(join(dir, 'head.json'), 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new EarshotError('MODEL_INVALID', `${dir}: manifest.json or head.json is missing or not JSON`, { dir }, { cause: e });
  }
  if (manifest.format !== 'earshot-custom-model' || manifest.architecture !== 'custom-head' || !Array.isArray(manifest.labels)) {
    throw new EarshotError('MODEL_INVALID', `${dir} is not an earshot custom model (format ${String(manifest.format)}, architecture ${String(manifest.architecture)})`, { dir });
  }
  const inputDim = Number(raw.inputDim);
  const classes = Number(raw.classes);
  const hidden = Number(raw.hidden);
  if (classes !== manifest.labels.length || inputDim !== manifest.base.embeddingDim || !(hidden >= 0)) {
    throw new EarshotError('MODEL_SHAPE_MISMATCH', `${dir}: head is ${inputDim} -> ${classes} classes, manifest says ${manifest.base.embeddingDim} -> ${manifest.labels.length}`, { dir });
  }
  const head: HeadWeights =
    hidden > 0
      ? {
          inputDim,
          classes,
          hidden,
          mean: floats(dir, raw.mean, 'mean', inputDim),
          std: floats(dir, raw.std, 'std', inputDim),
          w1: floats(dir, raw.w1, 'w1', inputDim * hidden),
          b1: floats(dir, raw.b1, 'b1', hidden),
          w2: floats(dir, raw.w2, 'w2', hidden * classes),
          b2: floats(dir, raw.b2, 'b2', classes),
        }
      : {
          inputDim,
          classes,
          hidden: 0,
          mean: floats(dir, raw.mean, 'mean', inputDim),
          std: floats(dir, raw.std, 'std', inputDim),
          w1: floats(dir, raw.w1, 'w1', inputDim * classes),
          b1: floats(dir, raw.b1, 'b1', classes),
        };
  return { dir, manifest, head, labels: manifest.labels.map((l, index) => ({ index, id: l.id, name: l.name })) };
}
