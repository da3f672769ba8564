import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** ../shared beside the checkout, or $EARSHOT_SHARED. Tests that need it fail loudly if absent. */
export const sharedDir = resolve(process.env.EARSHOT_SHARED ?? join(projectRoot, '..', 'shared'));

export function sharedPath(...parts: string[]): string {
  const p = join(sharedDir, ...parts);
  if (!existsSync(p)) throw new Error(`shared test data missing: ${p} (set EARSHOT_SHARED)`);
  return p;
}
