import { EarshotError } from '../errors.js';

/** A `--source` flag as a config `sources:` entry (plain object; the config schema validates it). */
export type SourceFlagEntry = Record<string, string | boolean>;

/**
 * `mic`, `mic:DEVICE`, `file:PATH`, `url:URL`, `stdin` -> config source entries with
 * ids named after the kind (`mic`, `mic-2`, ...). --loop/--fast apply to files.
 */
export function sourcesFromFlags(flags: readonly string[], opts: { loop?: boolean; fast?: boolean } = {}): SourceFlagEntry[] {
  const used = new Map<string, number>();
  const id = (kind: string) => {
    const n = (used.get(kind) ?? 0) + 1;
    used.set(kind, n);
    return n === 1 ? kind : `${kind}-${n}`;
  };
  return flags.map((flag): SourceFlagEntry => {
    const colon = flag.indexOf(':');
    const kind = colon < 0 ? flag : flag.slice(0, colon);
    const arg = colon < 0 ? '' : flag.slice(colon + 1);
    switch (kind) {
      case 'mic':
        return { id: id('mic'), kind: 'mic', ...(arg ? { device: arg } : {}) };
      case 'file':
        if (!arg) throw new EarshotError('INPUT_INVALID', `--source ${flag}: expected file:PATH`, { flag });
        return { id: id('file'), kind: 'file', path: arg, loop: opts.loop ?? false, realtime: !(opts.fast ?? false) };
      case 'url':
        if (!arg) throw new EarshotError('INPUT_INVALID', `--source ${flag}: expected url:URL`, { flag });
        return { id: id('url'), kind: 'url', url: arg };
      case 'stdin':
        return { id: id('stdin'), kind: 'stdin' };
      default:
        throw new EarshotError('INPUT_INVALID', `--source ${flag}: unknown kind '${kind}' (mic[:DEVICE], file:PATH, url:URL, stdin)`, { flag });
    }
  });
}
