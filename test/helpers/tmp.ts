import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made = new Set<string>();
process.on('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/**
 * A fresh temp dir `earshot-<prefix>-XXXXXX` that removes itself when the test process
 * exits (node:test runs each file in its own process), or earlier via `removeTempDir`.
 */
export function tempDir(prefix = 'test'): string {
  const dir = mkdtempSync(join(tmpdir(), `earshot-${prefix}-`));
  made.add(dir);
  return dir;
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  made.delete(dir);
}
