import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import type { LabelInfo } from '../../classify/contracts.js';
import { EarshotError } from '../../errors.js';
import type { ModelManifest } from '../contracts.js';
import { parseLabelsCsv, sha256, writeModelDir } from '../modeldir.js';
import { parseTflite } from '../tflite/schema.js';
import { YAMNET_CLASSES, YAMNET_EMBEDDING_DIM, YAMNET_MEL_BANDS, YAMNET_PATCH_FRAMES } from './graph.js';
import { type MappedTensor,mapYamnetWeights } from './weights.js';

/** YAMNet's frontend differs from VGGish's only in these (yamnet/params.py). */
export const YAMNET_FRONTEND = { logOffset: 0.001, patchHopSeconds: 0.48 } as const;
export const YAMNET_LABELS_FILE = 'yamnet_class_map.csv';

export interface ImportYamnetOptions {
  readonly tflitePath: string;
  readonly outDir: string;
  /** Default: yamnet_class_map.csv beside the tflite. */
  readonly labelsPath?: string;
}

export interface ImportYamnetResult {
  readonly manifest: ModelManifest;
  readonly mapped: readonly MappedTensor[];
  readonly skippedFrontendOps: number;
  readonly labels: number;
}

function readOrThrow(path: string, what: string): Buffer {
  if (!existsSync(path)) throw new EarshotError('MODEL_NOT_FOUND', `${what} not found: ${path}`, { path });
  return readFileSync(path);
}

function loadLabels(path: string): LabelInfo[] {
  const labels = parseLabelsCsv(readOrThrow(path, 'YAMNet class map').toString('utf8'), path);
  if (labels.length !== YAMNET_CLASSES) throw new EarshotError('MODEL_SHAPE_MISMATCH', `${path}: ${labels.length} labels, YAMNet scores ${YAMNET_CLASSES} classes`, { path });
  return labels;
}

/** Converts Google's yamnet.tflite (+ class map) into an earshot model directory. */
export function importYamnet(opts: ImportYamnetOptions): ImportYamnetResult {
  const bytes = readOrThrow(opts.tflitePath, 'YAMNet tflite file');
  const labelsPath = opts.labelsPath ?? join(dirname(opts.tflitePath), YAMNET_LABELS_FILE);
  // The tflite is checked first (the file the user named), the class map before the (slower) weight conversion.
  const model = parseTflite(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), opts.tflitePath);
  if (opts.labelsPath === undefined && !existsSync(labelsPath)) {
    throw new EarshotError('MODEL_NOT_FOUND', `YAMNet class map not found: looked for ${YAMNET_LABELS_FILE} beside the tflite (${labelsPath}); pass --labels <yamnet_class_map.csv>`, { path: labelsPath });
  }
  const labels = loadLabels(labelsPath);
  const { weights, mapped, skippedFrontendOps } = mapYamnetWeights(model);
  const manifest = writeModelDir(
    opts.outDir,
    {
      name: 'yamnet',
      architecture: 'yamnet',
      version: '1',
      input: { name: 'patch', shape: [YAMNET_PATCH_FRAMES, YAMNET_MEL_BANDS, 1] },
      outputs: [
        { name: 'scores', shape: [YAMNET_CLASSES] },
        { name: 'embedding', shape: [YAMNET_EMBEDDING_DIM] },
      ],
      frontend: { ...YAMNET_FRONTEND },
      provenance: {
        source: basename(opts.tflitePath),
        sourceSha256: sha256(bytes),
        labelsSource: basename(labelsPath),
        labelsSha256: sha256(readFileSync(labelsPath)),
        author: 'Google',
        license: 'Apache-2.0',
        tfliteDescription: model.description,
        conversion: 'int8 weights (dynamic-range quantization) dequantized to float32; conv OHWI->HWIO, depthwise 1HWC->HWC1, dense [out,in]->[in,out]; waveform frontend ops skipped',
      },
    },
    weights,
    labels,
  );
  return { manifest, mapped, skippedFrontendOps, labels: labels.length };
}
