import type { Command } from 'commander';

// Placeholder until the VGGish weight importers land.
export function registerModelsVggish(_importCmd: Command, _fetchCmd: Command): void {}
