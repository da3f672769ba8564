import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { EarshotError } from '../../errors.js';
import type { Storage } from '../../storage/contracts.js';
import { ProtoError } from '../../util/protobuf.js';
import type { Clip } from '../contracts.js';
import { decodeSequenceExample, encodeSequenceExample, type Feature, type SequenceExample } from './sequence-example.js';
import { DEFAULT_CHUNK_BYTES, readTFRecords, type TFRecordReadOptions } from './tfrecord.js';

/** AudioSet v1 release: 527 classes, 128-dim uint8 embeddings at 1 Hz. */
export const AUDIOSET_CLASSES = 527;
export const EMBEDDING_DIM = 128;

/**
 * AudioSet's release keeps <root>/metadata/ (class_labels_indices.csv) two levels above
 * <root>/features/<split>/. Computed on the URL (never a `..` storage key, which S3 keys
 * refuse); undefined when an S3 prefix is too shallow to have such a root.
 */
export function metadataBeside(dataUrl: string): string | undefined {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(dataUrl);
  if (s3) {
    const segs = s3[2]!.split('/').filter(Boolean);
    return segs.length < 2 ? undefined : `s3://${s3[1]}/${[...segs.slice(0, -2), 'metadata'].join('/')}`;
  }
  const path = dataUrl.startsWith('file:') ? fileURLToPath(dataUrl) : resolve(dataUrl);
  return resolve(path, '..', '..', 'metadata');
}

export interface Where {
  readonly url: string;
  readonly key: string;
  readonly offset: number;
}

function corrupt(where: Where, why: string): EarshotError {
  return new EarshotError('DATA_CORRUPT', `bad AudioSet record in ${where.url}/${where.key} at byte ${where.offset}: ${why}`, { ...where });
}

function single(f: Feature | undefined, kind: 'bytes' | 'float', name: string, where: Where): Uint8Array | number {
  if (f === undefined) throw corrupt(where, `context feature ${name} missing`);
  if (f.kind !== kind || f.value.length !== 1) {
    throw corrupt(where, `context feature ${name} must be one ${kind} value, got ${f.kind}${'value' in f ? `[${f.value.length}]` : ''}`);
  }
  return f.value[0]!;
}

/** Turns a decoded SequenceExample into a Clip; labels must lie in [0, numClasses). */
export function clipFromSequenceExample(se: SequenceExample, where: Where, numClasses = AUDIOSET_CLASSES): Clip {
  const idBytes = single(se.context.get('video_id'), 'bytes', 'video_id', where) as Uint8Array;
  const videoId = Buffer.from(idBytes).toString('utf8');
  const startSeconds = single(se.context.get('start_time_seconds'), 'float', 'start_time_seconds', where) as number;
  const lf = se.context.get('labels');
  let labels: number[] = [];
  if (lf !== undefined && lf.kind !== 'none') {
    if (lf.kind !== 'int64') throw corrupt(where, `labels must be int64_list, got ${lf.kind}`);
    labels = lf.value;
    for (const l of labels) {
      if (!Number.isInteger(l) || l < 0 || l >= numClasses) throw corrupt(where, `label ${l} of ${videoId} outside [0, ${numClasses})`);
    }
  }
  const frames = se.featureLists.get('audio_embedding') ?? [];
  const embeddings = new Uint8Array(frames.length * EMBEDDING_DIM);
  frames.forEach((f, i) => {
    if (f.kind !== 'bytes' || f.value.length !== 1 || f.value[0]!.length !== EMBEDDING_DIM) {
      const got = f.kind === 'bytes' ? `${f.value.length} strings of ${f.value.map((v) => v.length).join(',')} bytes` : f.kind;
      throw corrupt(where, `audio_embedding second ${i} of ${videoId} must be one ${EMBEDDING_DIM}-byte string, got ${got}`);
    }
    embeddings.set(f.value[0]!, i * EMBEDDING_DIM);
  });
  return { videoId, startSeconds, labels, embeddings, seconds: frames.length };
}

/** Decodes one TFRecord payload as an AudioSet clip; every failure is DATA_CORRUPT naming file and offset. */
export function parseAudioSetRecord(payload: Uint8Array, where: Where, numClasses = AUDIOSET_CLASSES): Clip {
  let se: SequenceExample;
  try {
    se = decodeSequenceExample(payload);
  } catch (e) {
    if (e instanceof ProtoError) throw corrupt(where, `${e.message} (payload byte ${e.at})`);
    throw e;
  }
  return clipFromSequenceExample(se, where, numClasses);
}

/** The inverse of parseAudioSetRecord, for exporting clips and building test files. */
export function encodeAudioSetClip(clip: Clip, opts: { endSeconds?: number; packed?: boolean } = {}): Uint8Array {
  const frames: Feature[] = [];
  for (let i = 0; i < clip.seconds; i++) {
    frames.push({ kind: 'bytes', value: [clip.embeddings.subarray(i * EMBEDDING_DIM, (i + 1) * EMBEDDING_DIM)] });
  }
  const context = new Map<string, Feature>([
    ['video_id', { kind: 'bytes', value: [Buffer.from(clip.videoId, 'utf8')] }],
    ['start_time_seconds', { kind: 'float', value: [clip.startSeconds] }],
    ['end_time_seconds', { kind: 'float', value: [opts.endSeconds ?? clip.startSeconds + clip.seconds] }],
    ['labels', { kind: 'int64', value: [...clip.labels] }],
  ]);
  return encodeSequenceExample({ context, featureLists: new Map([['audio_embedding', frames]]) }, { packed: opts.packed ?? true });
}

export interface ReadProgress {
  readonly filesDone: number;
  readonly filesTotal: number;
  readonly clips: number;
  readonly key: string;
}

export interface ReadClipsOptions extends Pick<TFRecordReadOptions, 'chunkBytes' | 'maxRecordBytes' | 'verifyCrc'> {
  /** Key prefix under the storage root, e.g. 'bal_train/'. */
  readonly prefix?: string;
  readonly numClasses?: number;
  /** Files read ahead while the current one is parsed (hides S3 latency). */
  readonly prefetchFiles?: number;
  /** Called after each file. */
  readonly onProgress?: (p: ReadProgress) => void;
  readonly signal?: AbortSignal;
}

/** Sorted *.tfrecord keys under a prefix. */
export async function listTFRecordKeys(storage: Storage, prefix = ''): Promise<string[]> {
  return (await storage.list(prefix)).filter((k) => k.endsWith('.tfrecord'));
}

/**
 * Streams every clip of every *.tfrecord under `prefix`, files in key order,
 * records in file order. Up to `prefetchFiles` first chunks are in flight ahead
 * of the file being parsed.
 */
export async function* readAudioSetClips(storage: Storage, opts: ReadClipsOptions = {}): AsyncGenerator<Clip> {
  const keys = await listTFRecordKeys(storage, opts.prefix ?? '');
  const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const ahead = Math.max(0, opts.prefetchFiles ?? 8);
  const pending = new Map<number, Promise<Buffer>>();
  const start = (i: number): void => {
    if (i >= keys.length) return;
    const p = storage.readRange(keys[i]!, 0, chunkBytes);
    p.catch(() => undefined); // observed when its file's turn comes; avoids an unhandled rejection if we stop early
    pending.set(i, p);
  };
  for (let i = 0; i < Math.min(ahead, keys.length); i++) start(i);
  let clips = 0;
  for (let i = 0; i < keys.length; i++) {
    opts.signal?.throwIfAborted();
    start(i + ahead);
    const key = keys[i]!;
    const firstChunk = pending.get(i);
    pending.delete(i);
    const recOpts: TFRecordReadOptions = { ...opts, chunkBytes, ...(firstChunk ? { firstChunk } : {}) };
    for await (const rec of readTFRecords(storage, key, recOpts)) {
      yield parseAudioSetRecord(rec.payload, { url: storage.url, key, offset: rec.offset }, opts.numClasses);
      clips++;
    }
    opts.onProgress?.({ filesDone: i + 1, filesTotal: keys.length, clips, key });
  }
}
