import { readdirSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

import { EarshotError } from '../../errors.js';
import { AUDIO_EXTENSIONS } from '../../history/indexer.js';

/**
 * `earshot tag` arguments as a list of inputs, in the order given: `-` (stdin) and
 * files as they are (a missing file fails when tagged, alone), directories as their
 * audio files (recursive, sorted, the extensions `earshot index` takes). A directory
 * without audio is an error entry, reported like a failed file.
 */
export type TagInput = { readonly name: string } | { readonly name: string; readonly error: EarshotError };

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && AUDIO_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(p);
  }
}

export function tagInputs(args: readonly string[]): TagInput[] {
  const out: TagInput[] = [];
  for (const a of args) {
    let dir = false;
    try {
      dir = a !== '-' && statSync(a).isDirectory();
    } catch {
      // not there: decoding reports AUDIO_FILE_NOT_FOUND for it
    }
    if (!dir) {
      out.push({ name: a });
      continue;
    }
    const found: string[] = [];
    try {
      walk(a, found);
    } catch (e) {
      out.push({ name: a, error: new EarshotError('AUDIO_FILE_NOT_FOUND', `${a}: cannot read directory: ${(e as Error).message}`, { dir: a }, { cause: e }) });
      continue;
    }
    if (found.length === 0) out.push({ name: a, error: new EarshotError('AUDIO_FILE_NOT_FOUND', `${a}: no audio files in this directory (${[...AUDIO_EXTENSIONS].join(' ')})`, { dir: a }) });
    for (const f of found) out.push({ name: f });
  }
  return out;
}
