import { join } from 'node:path';

import { z } from 'zod';

import { decodeAudioFile } from '../audio/decode.js';
import { EarshotError, isEarshotError } from '../errors.js';
import type { HistoryStore } from '../history/contracts.js';
import { BACKGROUND_DIR } from './dataset.js';
import { saveExample, saveFeedback } from './feedback.js';
import { isCustomModelDir, readCustomModel } from './modeldir.js';

/** `POST /api/feedback` body and the WebSocket `feedback` message's fields. */
export const feedbackBodySchema = z
  .object({
    eventId: z.string().min(1).max(512),
    correct: z.boolean(),
    /** For a confirmed event: file it under this class instead of the event's label. */
    label: z.string().min(1).max(200).optional(),
  })
  .strict();
export type FeedbackBody = z.infer<typeof feedbackBodySchema>;

export interface FeedbackDeps {
  /** The history (read-only connection): the event and its clip rows. */
  readonly store: () => HistoryStore;
  /** Where clip files live (clips.dir). */
  readonly clipsDir: string;
  /** `learn.examplesDir`: the data folder for AudioSet-label feedback. */
  readonly examplesDir: string;
  /** `models.custom`: a custom label's feedback goes to its model's data folder (`learn --update` retrains from it). */
  readonly customModelDirs: readonly string[];
}

export interface FeedbackResult {
  readonly eventId: string;
  /** The class folder it went to (`background` for a false alarm). */
  readonly class: string;
  /** The data folder: a custom model's, or learn.examplesDir. */
  readonly dataDir: string;
  readonly path: string;
  readonly seconds: number;
}

/** The custom model dir whose labels hold `labelId` (`custom:<model>/<class>`), if one is configured. */
function customModelOf(labelId: string, dirs: readonly string[]): string | undefined {
  if (!labelId.startsWith('custom:')) return undefined;
  return dirs.find((d) => isCustomModelDir(d) && readCustomModel(d).labels.some((l) => l.id === labelId));
}

/**
 * Files an event's audio (its finished clip, decoded) as a training example: confirmed ->
 * `<data>/<label>/`, false alarm -> `<data>/background/`. Unknown event: EVENT_NOT_FOUND;
 * an event with no finished clip on disk, or a bad label: INPUT_INVALID. Reads and writes
 * disk: called from HTTP/WebSocket handlers, never from the pipeline.
 */
export async function fileEventFeedback(deps: FeedbackDeps, body: FeedbackBody): Promise<FeedbackResult> {
  const ev = await deps.store().event(body.eventId);
  if (!ev) throw new EarshotError('EVENT_NOT_FOUND', `no event '${body.eventId}' in the history`, { param: 'eventId', eventId: body.eventId });
  const clip = (await deps.store().clipsOf(ev.id)).find((c) => c.state === 'done');
  if (!clip) throw new EarshotError('INPUT_INVALID', `event '${ev.id}' has no finished clip to learn from (clips off, still recording, or deleted)`, { param: 'eventId', eventId: ev.id });
  const audio = await decodeAudioFile(join(deps.clipsDir, clip.path)).catch((e: unknown) => {
    if (isEarshotError(e, 'AUDIO_FILE_EMPTY')) throw new EarshotError('INPUT_INVALID', `event '${ev.id}': its clip ${clip.path} holds no audio`, { param: 'eventId', eventId: ev.id });
    throw new EarshotError('INPUT_INVALID', `event '${ev.id}': its clip ${clip.path} cannot be read (${(e as Error).message})`, { param: 'eventId', eventId: ev.id }, { cause: e });
  });
  const example = { eventId: ev.id, label: ev.label, correct: body.correct, samples: audio.samples, sampleRateHz: audio.sampleRateHz, ...(body.label ? { asLabel: body.label } : {}) };
  const seconds = audio.samples.length / audio.sampleRateHz;
  const modelDir = customModelOf(ev.labelId, deps.customModelDirs);
  if (modelDir) {
    const path = await saveFeedback(modelDir, example);
    const dataDir = readCustomModel(modelDir).manifest.data.dir;
    return { eventId: ev.id, class: body.correct ? (body.label ?? ev.label) : BACKGROUND_DIR, dataDir, path, seconds };
  }
  const cls = body.correct ? (body.label ?? ev.label) : BACKGROUND_DIR;
  if (body.correct && cls === BACKGROUND_DIR) throw new EarshotError('INPUT_INVALID', `label "${cls}" is reserved for false alarms (send correct: false)`, { param: 'label' });
  const path = await saveExample(deps.examplesDir, cls, example);
  return { eventId: ev.id, class: cls, dataDir: deps.examplesDir, path, seconds };
}
