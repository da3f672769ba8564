import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { encodeWav16 } from '../audio/wav.js';
import { EarshotError } from '../errors.js';
import { writeFileAtomic } from '../storage/atomic-file.js';
import { BACKGROUND_DIR } from './dataset.js';
import { readCustomModel } from './modeldir.js';

export interface FeedbackExample {
  /** The event the user judged (names the file, so judging twice overwrites). */
  readonly eventId: string;
  /** The label the event was for. */
  readonly label: string;
  /** true: the sound was there (confirmed); false: a false alarm. */
  readonly correct: boolean;
  /** For a confirmed event, the class to file it under when it was another learned sound. */
  readonly asLabel?: string;
  readonly samples: Float32Array;
  readonly sampleRateHz: number;
}

/**
 * Files an event's audio as a training example in the data folder of the custom model that
 * owns the label: confirmed -> <data>/<class>/, false alarm -> <data>/background/. The next
 * `earshot learn --update MODELDIR` trains on it. Returns the file written.
 */
export async function saveFeedback(modelDir: string, f: FeedbackExample): Promise<string> {
  const m = readCustomModel(modelDir);
  const cls = f.correct ? (f.asLabel ?? f.label) : BACKGROUND_DIR;
  if (f.correct && !m.labels.some((l) => l.name === cls)) {
    throw new EarshotError('INPUT_INVALID', `label "${cls}" is not a class of custom model ${modelDir} (${m.labels.map((l) => l.name).join(', ')})`, { label: cls, dir: modelDir });
  }
  return saveExample(m.manifest.data.dir, cls, f);
}

/** Writes `<dataDir>/<cls>/feedback-<event id>.wav` (16-bit PCM, atomically); the folder layout `earshot learn --data` reads. */
export async function saveExample(dataDir: string, cls: string, f: Pick<FeedbackExample, 'eventId' | 'samples' | 'sampleRateHz'>): Promise<string> {
  if (f.samples.length === 0) throw new EarshotError('INPUT_INVALID', `event ${f.eventId} has no audio to learn from`, { eventId: f.eventId });
  if (!/^[^/\\.][^/\\]*$/.test(cls)) throw new EarshotError('INPUT_INVALID', `label "${cls}" cannot name a class folder`, { label: cls });
  const dir = join(dataDir, cls);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `feedback-${f.eventId.replace(/[^A-Za-z0-9._-]/g, '_')}.wav`);
  await writeFileAtomic(path, encodeWav16(f.samples, f.sampleRateHz));
  return path;
}
