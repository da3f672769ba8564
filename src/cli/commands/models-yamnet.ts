import { readFileSync } from 'node:fs';

import type { Command } from 'commander';

import { EarshotError } from '../../errors.js';
import { parseTflite, type TfliteModel } from '../../models/tflite/schema.js';
import { importYamnet } from '../../models/yamnet/import.js';
import { action, configFrom } from '../common.js';

interface ImportOpts {
  out?: string;
  labels?: string;
  verbose?: boolean;
  list?: boolean;
}

function readTflite(path: string): TfliteModel {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new EarshotError('MODEL_NOT_FOUND', `YAMNet tflite file not found: ${path}`, { path }, { cause: e });
  }
  return parseTflite(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), path);
}

/** One line per operator: index, op, options, inputs (shape/type, * = constant) -> outputs. */
function listOperators(m: TfliteModel): string {
  const lines: string[] = [];
  for (const g of m.subgraphs) {
    lines.push(`subgraph ${g.name}: ${g.tensors.length} tensors, ${g.operators.length} operators`);
    const desc = (i: number) => {
      const t = g.tensors[i];
      if (!t) return '-';
      const q = t.quantization ? ` q${t.quantization.scale.length}@${t.quantization.quantizedDimension}` : '';
      return `[${t.shape.join(',')}]${t.type}${(m.buffers[t.buffer]?.length ?? 0) > 0 ? '*' : ''}${q}`;
    };
    for (const o of g.operators) {
      const opt = o.options && o.options.kind !== 'other' ? ` ${JSON.stringify(o.options)}` : '';
      lines.push(`${String(o.index).padStart(4)} ${o.op}${opt} ${o.inputs.map(desc).join(' ')} -> ${o.outputs.map(desc).join(' ')}`);
    }
  }
  return lines.join('\n') + '\n';
}

/** `earshot models import yamnet <file.tflite> [--out DIR] [--labels CSV]`. */
export function registerModelsYamnet(importCmd: Command): void {
  importCmd
    .command('yamnet <tflite>')
    .description("convert Google's yamnet.tflite (int8 weights) into a model directory (default: config models.yamnetDir)")
    .option('-o, --out <dir>', 'output model directory')
    .option('--labels <csv>', 'class map (index,mid,display_name); default: yamnet_class_map.csv beside the tflite')
    .option('-v, --verbose', 'list every mapped tensor')
    .option('--list', 'only list the tflite operators and tensors (nothing is written)')
    .action(
      action((tflite: string, opts: ImportOpts, cmd: Command) => {
        const cfg = configFrom(cmd);
        if (opts.list) {
          process.stdout.write(listOperators(readTflite(tflite)));
          return;
        }
        const outDir = opts.out ?? cfg.models.yamnetDir;
        const r = importYamnet({ tflitePath: tflite, outDir, ...(opts.labels ? { labelsPath: opts.labels } : {}) });
        if (opts.verbose) {
          for (const m of r.mapped) {
            process.stdout.write(
              `${m.name} [${m.shape.join(',')}] <- op ${m.operator} ${m.op} ${m.tensor} [${m.tfliteShape.join(',')}] ${m.tfliteType}${m.quantized === 'none' ? '' : ` (${m.quantized})`}\n`,
            );
          }
        }
        const params = r.mapped.reduce((a, m) => a + m.shape.reduce((x, y) => x * y, 1), 0);
        process.stdout.write(
          `imported yamnet into ${outDir}: ${r.mapped.length} tensors (${params} parameters), ${r.labels} labels; skipped ${r.skippedFrontendOps} frontend ops; weights sha256 ${r.manifest.weights.sha256}\n`,
        );
      }),
    );
}
