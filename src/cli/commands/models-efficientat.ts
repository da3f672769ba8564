import { readFileSync } from 'node:fs';

import type { Command } from 'commander';

import { EarshotError } from '../../errors.js';
import { parseLabelsCsv } from '../../models/modeldir.js';
import { AUDIOSET_LABELS_CSV } from '../../models/packaged.js';
import { action, configFrom } from '../common.js';

interface ImportOpts {
  out?: string;
  labels?: string;
  width?: string;
}

/** `earshot models import efficientat <file.pt> [--out DIR] [--labels CSV] [--width W]`. */
export function registerModelsEfficientAt(importCmd: Command): void {
  importCmd
    .command('efficientat <pt>')
    .description('convert an EfficientAT MobileNetV3 state dict (e.g. mn04_as_mAP_432.pt, MIT) into a model directory (default: config models.efficientatDir)')
    .option('-o, --out <dir>', 'output model directory')
    .option('--labels <csv>', 'class labels (index,mid,display_name); default: the 527 AudioSet labels shipped in models/classifier')
    .option('--width <mult>', 'width multiplier of the state dict (mn04: 0.4, mn10: 1.0)', '0.4')
    .action(
      action(async (pt: string, opts: ImportOpts, cmd: Command) => {
        const cfg = configFrom(cmd);
        const width = Number(opts.width ?? '0.4');
        if (!(width > 0 && width <= 4)) throw new EarshotError('INPUT_INVALID', `--width must be a number in (0, 4], got '${opts.width}'`, { value: opts.width });
        const labelsPath = opts.labels ?? AUDIOSET_LABELS_CSV;
        let text: string;
        try {
          text = readFileSync(labelsPath, 'utf8');
        } catch (e) {
          throw new EarshotError('INPUT_INVALID', `labels file not found: ${labelsPath}`, { path: labelsPath }, { cause: e });
        }
        const { importEfficientAt } = await import('../../models/efficientat/import.js');
        const outDir = opts.out ?? cfg.models.efficientatDir;
        const r = importEfficientAt({ ptPath: pt, outDir, labels: parseLabelsCsv(text, labelsPath), widthMult: width });
        process.stdout.write(
          `imported ${r.manifest.name} into ${outDir}: ${r.params} parameters (BatchNorm folded), ${r.manifest.labels?.count ?? 0} labels, ${(r.macsPerWindow / 1e6).toFixed(1)} M multiply-adds per 10 s window; weights sha256 ${r.manifest.weights.sha256}\n`,
        );
      }),
    );
}
