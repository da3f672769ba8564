import type { Command } from 'commander';

import { inspectModelDir, listConfiguredModels, type ModelSummary } from '../../models/inspect.js';
import { action, configFrom } from '../common.js';

function summaryText(s: ModelSummary): string {
  const shape = (x: readonly number[]) => `[${x.join(', ')}]`;
  return [
    `${s.dir}`,
    `  model      ${s.name} (${s.architecture}) version ${s.version}`,
    `  weights    ${s.weights.file}: ${s.weights.tensors} tensors, ${s.weights.parameters.toLocaleString('en-US')} parameters, sha256 ${s.weights.sha256} (verified)`,
    `  input      ${s.input.name} ${shape(s.input.shape)}`,
    ...s.outputs.map((o) => `  output     ${o.name} ${shape(o.shape)}`),
    `  labels     ${s.labels.count}${s.labels.first.length ? ` (${s.labels.first.join('; ')}${s.labels.count > s.labels.first.length ? ', …' : ''})` : ''}`,
    ...(s.frontend
      ? [
          `  frontend   ${Object.entries(s.frontend)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        ]
      : []),
    ...(s.extras
      ? [
          `  extras     ${Object.entries(s.extras)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ')}`,
        ]
      : []),
  ].join('\n');
}

/** `earshot models list` and `earshot models inspect DIR`. */
export function registerModelsInfo(models: Command): void {
  models
    .command('list')
    .description('the configured model directories (models.*Dir): installed, missing or invalid, and the tagger `run` would use')
    .option('--json', 'one JSON object')
    .action(
      action((opts: { json?: boolean }, cmd: Command) => {
        const cfg = configFrom(cmd);
        const r = listConfiguredModels(cfg.models);
        if (opts.json) {
          process.stdout.write(JSON.stringify(r) + '\n');
          return;
        }
        for (const e of r.entries) {
          const what = e.summary ? `${e.summary.name} (${e.summary.architecture}), ${e.summary.weights.parameters.toLocaleString('en-US')} parameters, ${e.summary.labels.count} labels` : e.problem;
          process.stdout.write(`${e.kind.padEnd(10)} ${e.status.padEnd(9)} ${e.dir}  ${what}\n`);
        }
        process.stdout.write(`tagger (models.tagger ${cfg.models.tagger}): ${r.tagger === 'vggish' ? 'vggish + classifier' : r.tagger}\n`);
      }),
    );
  models
    .command('inspect <dir>')
    .description('check a model directory (manifest, weights sha256, labels) and print what it holds')
    .option('--json', 'one JSON object')
    .action(
      action((dir: string, opts: { json?: boolean }) => {
        const s = inspectModelDir(dir);
        process.stdout.write(opts.json ? JSON.stringify(s) + '\n' : summaryText(s) + '\n');
      }),
    );
}
