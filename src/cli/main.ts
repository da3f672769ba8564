#!/usr/bin/env node
import { readFileSync } from 'node:fs';

import { Command } from 'commander';

import { registerCalibrate } from './commands/calibrate.js';
import { registerClips } from './commands/clips.js';
import { registerDevices } from './commands/devices.js';
import { registerEmbed } from './commands/embed.js';
import { registerFeatures } from './commands/features.js';
import { registerFleet } from './commands/fleet.js';
import { registerHistory } from './commands/history.js';
import { registerLearn } from './commands/learn.js';
import { registerModels } from './commands/models.js';
import { registerRun } from './commands/run.js';
import { registerTag } from './commands/tag.js';
import { registerTrain } from './commands/train.js';
import { registerWatch } from './commands/watch.js';
import { commanderErrorsAsEarshot, exitCodeForCommander } from './common.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = commanderErrorsAsEarshot(
    new Command('earshot')
      .description('Streaming AudioSet tagging: features, embeddings, classifier training, live daemon')
      .version(pkg.version)
      .option('-c, --config <file>', 'YAML/JSON config file (default: $EARSHOT_CONFIG, else built-in defaults)'),
  );
  registerFeatures(program);
  registerEmbed(program);
  registerModels(program);
  registerTag(program);
  registerTrain(program);
  registerRun(program);
  registerWatch(program);
  registerHistory(program);
  registerClips(program);
  registerFleet(program);
  registerDevices(program);
  registerLearn(program);
  registerCalibrate(program);
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  process.exitCode = exitCodeForCommander(e);
}
