import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

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

function wav(x: Float32Array, rateHz: number): Uint8Array {
  const buf = Buffer.alloc(44 + x.length * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + x.length * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rateHz, 24);
  buf.writeUInt32LE(rateHz * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(x.length * 2, 40);
  for (let i = 0; i < x.length; i++) buf.writeInt16LE(Math.round(Math.max(-1, Math.min(1, x[i]!)) * 32767), 44 + i * 2);
  return buf;
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
  await writeFileAtomic(path, wav(f.samples, f.sampleRateHz));
  return path;
}
