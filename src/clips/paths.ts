import { join, resolve } from 'node:path';

import type { Config } from '../config/schema.js';
import { stateDirOf } from '../history/paths.js';

/** `clips.dir`, else `<stateDir>/clips`. */
export function clipsDirOf(config: Pick<Config, 'stateDir' | 'clips'>, env: NodeJS.ProcessEnv): string {
  return config.clips.dir ? resolve(config.clips.dir) : join(stateDirOf(config, env), 'clips');
}

/** `learn.examplesDir`, else `<stateDir>/examples` (feedback on AudioSet-label events). */
export function examplesDirOf(config: Pick<Config, 'stateDir' | 'learn'>, env: NodeJS.ProcessEnv): string {
  return config.learn.examplesDir ? resolve(config.learn.examplesDir) : join(stateDirOf(config, env), 'examples');
}
