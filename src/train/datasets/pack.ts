import { EarshotError } from '../../errors.js';
import type { Storage } from '../../storage/contracts.js';
import type { Clip } from '../contracts.js';
import { AUDIOSET_CLASSES, EMBEDDING_DIM, readAudioSetClips, type ReadClipsOptions } from './audioset.js';

/**
 * Packs clips the way Kong et al.'s released HDF5 files are laid out:
 * x uint8 [N, 10, 128], y 0/1 [N, 527], video ids in read order.
 *
 * Padding rule: a clip shorter than `timeSteps` seconds gets trailing rows of
 * uint8 zeros, a longer one keeps its first `timeSteps` seconds. This is Kong's
 * `pad_trunc_seq` (np.concatenate((x, np.zeros(...))) / x[0:max_len]) used by
 * his packing scripts, and his answer in qiuqiangkong/audioset_classification
 * issue #5: clips "shorter than 10 seconds ... are padded with silence to 10
 * seconds". Note the zero rows are raw uint8 0, not the quantized embedding of
 * silence; `seconds` keeps each clip's true length for callers that want to mask.
 */
export interface PackedClips {
  readonly count: number;
  readonly timeSteps: number;
  readonly numClasses: number;
  /** uint8 [count, timeSteps, 128] */
  readonly x: Uint8Array;
  /** 0/1 [count, numClasses] */
  readonly y: Uint8Array;
  readonly videoIds: string[];
  /** Seconds of real embeddings per clip before padding/truncation. */
  readonly seconds: Uint16Array;
}

export interface PackOptions {
  readonly timeSteps?: number;
  readonly numClasses?: number;
}

/** Copies one clip into row `i` of x/y. */
function packOne(clip: Clip, i: number, x: Uint8Array, y: Uint8Array, timeSteps: number, numClasses: number): void {
  const rows = Math.min(clip.seconds, timeSteps);
  x.set(clip.embeddings.subarray(0, rows * EMBEDDING_DIM), i * timeSteps * EMBEDDING_DIM);
  // x comes zero-filled, so rows [rows, timeSteps) are already the zero padding.
  for (const l of clip.labels) {
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) {
      throw new EarshotError('DATA_CORRUPT', `label ${l} of clip ${clip.videoId} outside [0, ${numClasses})`, { videoId: clip.videoId, label: l });
    }
    y[i * numClasses + l] = 1;
  }
}

export function packClips(clips: readonly Clip[], opts: PackOptions = {}): PackedClips {
  const timeSteps = opts.timeSteps ?? 10;
  const numClasses = opts.numClasses ?? AUDIOSET_CLASSES;
  const n = clips.length;
  const x = new Uint8Array(n * timeSteps * EMBEDDING_DIM);
  const y = new Uint8Array(n * numClasses);
  const seconds = new Uint16Array(n);
  const videoIds: string[] = new Array<string>(n);
  clips.forEach((c, i) => {
    packOne(c, i, x, y, timeSteps, numClasses);
    videoIds[i] = c.videoId;
    seconds[i] = Math.min(c.seconds, 0xffff);
  });
  return { count: n, timeSteps, numClasses, x, y, videoIds, seconds };
}

/**
 * Reads every clip under `opts.prefix` and packs them in memory (the trainer's
 * start-up path). The AudioSet balanced split is ~28 MB packed.
 */
export async function loadClips(storage: Storage, opts: ReadClipsOptions & PackOptions = {}): Promise<PackedClips> {
  const clips: Clip[] = [];
  for await (const c of readAudioSetClips(storage, opts)) clips.push(c);
  return packClips(clips, opts);
}
