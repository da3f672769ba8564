import type { Command } from 'commander';
import { action, configFrom } from '../common.js';
import { EarshotError } from '../../errors.js';

// Placeholder until the owning module lands; replaced by the real command.
export function registerFeatures(program: Command): void {
  program
    .command('features')
    .description('(not yet available)')
    .action(
      action((_opts: unknown, cmd: Command) => {
        configFrom(cmd);
        throw new EarshotError('INTERNAL', 'features is not available yet');
      }),
    );
}
