import type { Command } from 'commander';
import { action, configFrom } from '../common.js';
import { importYamnet } from '../../models/yamnet/import.js';

interface ImportOpts {
  out?: string;
  labels?: string;
  verbose?: boolean;
}

/** `earshot models import yamnet <file.tflite> [--out DIR] [--labels CSV]`. */
export function registerModelsYamnet(importCmd: Command): void {
  importCmd
    .command('yamnet <tflite>')
    .description("convert Google's yamnet.tflite (int8 weights) into a model directory (default: config models.yamnetDir)")
    .option('-o, --out <dir>', 'output model directory')
    .option('--labels <csv>', 'class map (index,mid,display_name); default: yamnet_class_map.csv beside the tflite')
    .option('-v, --verbose', 'list every mapped tensor')
    .action(
      action((tflite: string, opts: ImportOpts, cmd: Command) => {
        const cfg = configFrom(cmd);
        const outDir = opts.out ?? cfg.models.yamnetDir;
        const r = importYamnet({ tflitePath: tflite, outDir, ...(opts.labels ? { labelsPath: opts.labels } : {}) });
        if (opts.verbose) {
          for (const m of r.mapped) {
            process.stdout.write(`${m.name} [${m.shape.join(',')}] <- op ${m.operator} ${m.op} ${m.tensor} [${m.tfliteShape.join(',')}] ${m.tfliteType}${m.quantized === 'none' ? '' : ` (${m.quantized})`}\n`);
          }
        }
        const params = r.mapped.reduce((a, m) => a + m.shape.reduce((x, y) => x * y, 1), 0);
        process.stdout.write(
          `imported yamnet into ${outDir}: ${r.mapped.length} tensors (${params} parameters), ${r.labels} labels; skipped ${r.skippedFrontendOps} frontend ops; weights sha256 ${r.manifest.weights.sha256}\n`,
        );
      }),
    );
}
