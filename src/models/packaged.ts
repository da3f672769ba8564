import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's own directory (the folder holding package.json), from src/ or dist/ alike:
 * both keep this file one level below the root's `src|dist/models/`.
 */
export const packageRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Model directories shipped in the package (committed under models/). */
export const PACKAGED_MODELS = {
  efficientat: join(packageRoot, 'models', 'efficientat-mn04'),
  yamnet: join(packageRoot, 'models', 'yamnet'),
  classifier: join(packageRoot, 'models', 'classifier'),
} as const;

/** The 527 AudioSet labels (index, mid, display name; CC BY 4.0) shipped with the classifier. */
export const AUDIOSET_LABELS_CSV = join(packageRoot, 'models', 'classifier', 'labels.csv');

/**
 * A configured model directory: as given when it exists (relative to the working directory)
 * or is absolute; else the package's copy of the same relative path, so the default
 * `models/...` settings work from any working directory right after install.
 */
export function resolveModelDir(dir: string): string {
  if (isAbsolute(dir) || existsSync(join(dir, 'manifest.json'))) return dir;
  const packaged = resolve(packageRoot, dir);
  return existsSync(join(packaged, 'manifest.json')) ? packaged : dir;
}
