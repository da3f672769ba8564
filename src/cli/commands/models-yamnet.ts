import type { Command } from 'commander';

// Placeholder until the YAMNet importer lands.
export function registerModelsYamnet(_importCmd: Command): void {}
