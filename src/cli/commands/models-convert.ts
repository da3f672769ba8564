import { statSync } from 'node:fs';
import { join } from 'node:path';

import type { Command } from 'commander';

import { EarshotError } from '../../errors.js';
import { WEIGHT_DTYPES, type WeightDtype } from '../../models/weight-dtypes.js';
import { action } from '../common.js';

/** `earshot models convert <dir> --dtype float16|int8|float32 [--out DIR]`. */
export function registerModelsConvert(models: Command): void {
  models
    .command('convert <dir>')
    .description("store a model directory's weights compactly (float16, or int8 with per-channel scales); engines still run float32")
    .requiredOption('--dtype <dtype>', `stored weight type: ${WEIGHT_DTYPES.join('|')}`)
    .option('-o, --out <dir>', 'output directory (default: rewrite <dir> in place)')
    .action(
      action(async (dir: string, opts: { dtype: string; out?: string }) => {
        if (!WEIGHT_DTYPES.includes(opts.dtype as WeightDtype))
          throw new EarshotError('INPUT_INVALID', `--dtype must be one of ${WEIGHT_DTYPES.join(', ')}, got '${opts.dtype}'`, { value: opts.dtype });
        const { convertModelDir } = await import('../../models/convert.js');
        const out = opts.out ?? dir;
        const m = convertModelDir(dir, out, opts.dtype as WeightDtype);
        process.stdout.write(`${out}: ${m.weights.tensors.length} tensors, weights.bin ${statSync(join(out, m.weights.file)).size} bytes (${opts.dtype})\n`);
      }),
    );
}
