import type { Command } from 'commander';

import { EarshotError } from '../../errors.js';
import { action, configFrom, intFlag } from '../common.js';

interface LearnFlags {
  data?: string;
  out?: string;
  base?: string;
  update?: string;
  name?: string;
  falseAlarmsPerHour?: string;
  folds?: string;
  hidden?: string;
}

function positiveNumber(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new EarshotError('INPUT_INVALID', `${flag} must be a positive number, got '${v}'`, { flag, value: v });
  return n;
}

/** `earshot learn`: few-shot custom labels from a folder of example recordings (src/learn). */
export function registerLearn(program: Command): void {
  program
    .command('learn')
    .description('teach new sounds: DIR/<class>/ recordings (+ DIR/background/) -> a custom model directory for `tag --model` and models.custom')
    .option('-d, --data <dir>', 'one folder per sound (3-20 recordings each, any format) and optionally background/ (the place without those sounds)')
    .option('-o, --out <dir>', 'custom model directory to write (manifest.json, head.json, report.json/.md/.svg)')
    .option('-b, --base <dir>', 'base embedding model (default: config models.yamnetDir)')
    .option('-u, --update <dir>', 'retrain an existing custom model from the data folder its manifest names (after feedback added examples)')
    .option('--name <name>', 'model name used in label ids custom:<name>/<class> (default: the --out folder name)')
    .option('--false-alarms-per-hour <n>', 'per-class false-alarm budget the thresholds are calibrated to on the background (default 1)')
    .option('--folds <k>', 'cross-validation folds, by recording (default 5, at most the smallest class size)')
    .option('--hidden <n>', 'hidden units of the head; 0 = logistic regression (default 0)')
    .action(
      action(async (flags: LearnFlags, cmd: Command) => {
        const cfg = configFrom(cmd);
        if (!flags.update && (!flags.data || !flags.out)) throw new EarshotError('INPUT_INVALID', 'earshot learn needs --data DIR and --out MODELDIR (or --update MODELDIR)', {});
        if (flags.update && (flags.data || flags.out)) throw new EarshotError('INPUT_INVALID', '--update retrains from the data folder recorded in the model; do not combine it with --data/--out', {});
        const budget = positiveNumber('--false-alarms-per-hour', flags.falseAlarmsPerHour);
        const folds = intFlag('--folds', flags.folds, { min: 1, max: 20 });
        const hidden = intFlag('--hidden', flags.hidden, { min: 0, max: 1024 });
        const [{ runLearn, updateModel }, { DEFAULT_HEAD }, { resolveModelDir }] = await Promise.all([import('../../learn/run.js'), import('../../learn/head.js'), import('../../models/packaged.js')]);
        let bar: { start(total: number, v: number, p?: object): void; update(v: number, p?: object): void; setTotal(t: number): void; stop(): void } | undefined;
        let stage = '';
        if (process.stderr.isTTY) {
          const { SingleBar, Presets } = (await import('cli-progress')).default;
          bar = new SingleBar({ format: 'learn {stage} [{bar}] {value}/{total}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
        }
        const options = {
          ...(budget !== undefined ? { budgetPerHour: budget } : {}),
          ...(folds !== undefined ? { folds } : {}),
          ...(hidden !== undefined ? { head: { ...DEFAULT_HEAD, hidden } } : {}),
          onProgress: (s: string, done: number, total: number) => {
            if (!bar || total === 0) return;
            if (s !== stage) {
              if (stage) bar.stop();
              stage = s;
              bar.start(total, done, { stage: s });
            } else bar.update(done, { stage: s });
          },
        };
        const t0 = performance.now();
        let out;
        try {
          out = flags.update
            ? await updateModel(flags.update, cfg, options)
            : await runLearn({
                dataDir: flags.data!,
                outDir: flags.out!,
                baseDir: flags.base ?? resolveModelDir(cfg.models.yamnetDir),
                config: cfg,
                ...(flags.name ? { name: flags.name } : {}),
                options,
              });
        } finally {
          bar?.stop();
        }
        const dir = flags.update ?? flags.out!;
        const r = out.report;
        for (const s of r.skipped) process.stderr.write(`skipped ${s.path}: ${s.reason}\n`);
        for (const c of r.classes) {
          process.stdout.write(
            `${c.name.padEnd(24)} ${String(c.recordings).padStart(3)} recordings  threshold ${c.threshold.toFixed(3)}  precision ${c.precision.toFixed(3)}  recall ${c.recall.toFixed(3)}  example recall ${c.exampleRecall.toFixed(3)}\n`,
          );
        }
        process.stdout.write(
          `${dir}: ${r.classes.length} classes, ${r.crossValidated ? `${r.folds}-fold cross-validated` : 'not cross-validated'}, report in ${dir}/report.md (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`,
        );
      }),
    );
}
