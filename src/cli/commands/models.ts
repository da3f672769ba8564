import type { Command } from 'commander';

import { registerModelsConvert } from './models-convert.js';
import { registerModelsEfficientAt } from './models-efficientat.js';
import { registerModelsInfo } from './models-info.js';
import { registerModelsVggish } from './models-vggish.js';
import { registerModelsYamnet } from './models-yamnet.js';

/** `earshot models import|fetch <kind> ...`, `models list`, `models inspect DIR`: each model family registers its own subcommands. */
export function registerModels(program: Command): void {
  const models = program.command('models').description('import, fetch and inspect model directories');
  const importCmd = models.command('import').description('convert weights into an earshot model directory');
  const fetchCmd = models.command('fetch').description('download published weights, verify and import');
  registerModelsVggish(importCmd, fetchCmd);
  registerModelsYamnet(importCmd);
  registerModelsEfficientAt(importCmd);
  registerModelsConvert(models);
  registerModelsInfo(models);
}
