import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

import { decodeAudioFile } from '../audio/decode.js';
import { EarshotError, toEarshotError } from '../errors.js';
import { resample } from '../features/resample.js';
import type { Dataset, DatasetClass, Recording } from './contracts.js';

export const BACKGROUND_DIR = 'background';

function listFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('.'))
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isFile())
    .sort();
}

/** Silent or near-silent audio teaches nothing: -70 dBFS peak. */
const MIN_PEAK = 10 ** (-70 / 20);

async function readRecordings(dir: string, rateHz: number, skipped: Array<{ path: string; reason: string }>, onFile?: () => void): Promise<Recording[]> {
  const out: Recording[] = [];
  for (const path of listFiles(dir)) {
    try {
      const a = await decodeAudioFile(path);
      const samples = a.sampleRateHz === rateHz ? a.samples : Float32Array.from(resample(a.samples, a.sampleRateHz, rateHz));
      let peak = 0;
      for (const v of samples) peak = Math.max(peak, Math.abs(v));
      if (!(peak >= MIN_PEAK)) skipped.push({ path, reason: 'silent (peak below -70 dBFS)' });
      else out.push({ path, samples });
    } catch (e) {
      skipped.push({ path, reason: toEarshotError(e).message });
    }
    onFile?.();
  }
  return out;
}

/** Number of files `readDataset` will try (for a progress bar). */
export function countDatasetFiles(dir: string): number {
  return readdirSync(dir)
    .map((n) => join(dir, n))
    .filter((p) => statSync(p).isDirectory())
    .reduce((n, d) => n + listFiles(d).length, 0);
}

/**
 * DIR/<class>/* (one folder per class) and the optional DIR/background/*, decoded to
 * mono at `rateHz`. Unreadable or silent files are skipped and listed; a class folder
 * left with no usable audio, or a single class with no background to contrast it with,
 * is an INPUT_INVALID error naming the folder.
 */
export async function readDataset(dir: string, rateHz: number, onFile?: () => void): Promise<Dataset> {
  const root = resolve(dir);
  let entries: string[];
  try {
    entries = readdirSync(root)
      .filter((n) => !n.startsWith('.') && statSync(join(root, n)).isDirectory())
      .sort();
  } catch (e) {
    throw new EarshotError('DATA_NOT_FOUND', `--data ${root}: not a readable folder`, { dir: root }, { cause: e });
  }
  const skipped: Array<{ path: string; reason: string }> = [];
  const classes: DatasetClass[] = [];
  for (const name of entries.filter((n) => n !== BACKGROUND_DIR)) {
    const cdir = join(root, name);
    const recordings = await readRecordings(cdir, rateHz, skipped, onFile);
    if (recordings.length === 0) {
      throw new EarshotError('INPUT_INVALID', `class folder ${cdir} holds no usable audio (${listFiles(cdir).length} files, none decodable and audible)`, {
        folder: cdir,
        skipped: skipped.filter((s) => s.path.startsWith(cdir)),
      });
    }
    classes.push({ name, dir: cdir, recordings });
  }
  const bdir = join(root, BACKGROUND_DIR);
  const background = entries.includes(BACKGROUND_DIR) ? await readRecordings(bdir, rateHz, skipped, onFile) : [];
  if (classes.length === 0) throw new EarshotError('INPUT_INVALID', `${root} has no class folders (expected one folder per sound, e.g. ${join(root, 'doorbell')}/)`, { folder: root });
  if (classes.length === 1 && background.length === 0) {
    throw new EarshotError('INPUT_INVALID', `${root} has one class (${classes[0]!.name}) and no usable ${bdir}/: a single sound needs background recordings to tell it from`, { folder: root });
  }
  return { dir: root, classes, background, skipped };
}
