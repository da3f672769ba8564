import { closeSync, existsSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

import { EarshotError } from '../../errors.js';
import { crc32c, maskCrc } from '../../util/crc32c.js';
import { DT_DOUBLE, DT_FLOAT, dtypeName, isUnsupportedFloat } from './dtypes.js';
import { getFixed32, getInt, getMessage, getMessages, parseMessage, type ProtoMessage } from './proto.js';
import { readTable } from './sstable.js';
import { f32FromBytes, f32FromF64Bytes, numel, type ProgressFn, type RawTensor, type ReadResult,shapeStr } from './tensors.js';

/**
 * TF1/TF2 "V2" checkpoints (tf.train.Saver default since TF 1.x, tensor_bundle.proto):
 * `<prefix>.index` is a table whose "" key holds a BundleHeaderProto and whose other
 * keys are variable names with BundleEntryProto values pointing into
 * `<prefix>.data-<shard>-of-<n>`.
 */
export function dataShardPath(prefix: string, shard: number, shards: number): string {
  return `${prefix}.data-${String(shard).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}`;
}

/** `x.ckpt`, `x.ckpt.index` or `x.ckpt.data-...` -> `x.ckpt`. */
export function checkpointPrefix(path: string): string {
  return path.replace(/\.index$/, '').replace(/\.data-\d{5}-of-\d{5}$/, '');
}

export function isCheckpointV2(path: string): boolean {
  return existsSync(`${checkpointPrefix(path)}.index`);
}

function decodeShape(m: ProtoMessage | undefined, what: string): number[] {
  if (!m) return [];
  if (getInt(m, 3, what) !== 0) throw new EarshotError('MODEL_INVALID', `${what}: shape has unknown rank`, { what });
  return getMessages(m, 2, what).map((d) => {
    const size = getInt(d, 1, what);
    if (size < 0) throw new EarshotError('MODEL_INVALID', `${what}: shape has unknown dimension ${size}`, { what });
    return size;
  });
}

interface Entry {
  readonly name: string;
  readonly dtype: number;
  readonly shape: number[];
  readonly shard: number;
  readonly offset: number;
  readonly size: number;
  readonly crc: number | undefined;
}

function decodeEntry(name: string, value: Uint8Array, file: string): Entry {
  const what = `${file}: entry ${name}`;
  const m = parseMessage(value, what);
  if ((m.get(7) ?? []).length > 0) throw new EarshotError('MODEL_INVALID', `${what}: partitioned (sliced) variables are not supported`, { file, tensor: name });
  return {
    name,
    dtype: getInt(m, 1, what),
    shape: decodeShape(getMessage(m, 2, what), what),
    shard: getInt(m, 3, what),
    offset: getInt(m, 4, what),
    size: getInt(m, 5, what),
    crc: getFixed32(m, 6, what),
  };
}

export function readCheckpointV2(path: string, onProgress?: ProgressFn): ReadResult {
  const prefix = checkpointPrefix(path);
  const indexPath = `${prefix}.index`;
  if (!existsSync(indexPath)) throw new EarshotError('MODEL_NOT_FOUND', `checkpoint index ${indexPath} not found`, { file: indexPath });
  const entries = readTable(readFileSync(indexPath), indexPath);
  const headerEntry = entries[0];
  if (!headerEntry || headerEntry.key.length !== 0) throw new EarshotError('MODEL_INVALID', `${indexPath}: no BundleHeaderProto under the empty key (not a V2 checkpoint index)`, { file: indexPath });
  const header = parseMessage(headerEntry.value, `${indexPath}: header`);
  const shards = getInt(header, 1, `${indexPath}: header`);
  if (getInt(header, 2, `${indexPath}: header`) !== 0) throw new EarshotError('DATA_UNSUPPORTED', `${indexPath}: big-endian checkpoints are not supported`, { file: indexPath });
  if (shards < 1 || shards > 1_000_000) throw new EarshotError('MODEL_INVALID', `${indexPath}: header says ${shards} data shards`, { file: indexPath });
  const decoded = entries.slice(1).map((e) => decodeEntry(new TextDecoder().decode(e.key), e.value, indexPath));
  const total = decoded.reduce((a, e) => a + e.size, 0);
  const fds = new Map<number, { fd: number; size: number; path: string }>();
  const tensors: RawTensor[] = [];
  const skipped: Array<{ name: string; dtype: string }> = [];
  let done = 0;
  try {
    for (const e of decoded) {
      if (e.dtype !== DT_FLOAT && e.dtype !== DT_DOUBLE) {
        if (isUnsupportedFloat(e.dtype)) throw new EarshotError('DATA_UNSUPPORTED', `${indexPath}: tensor ${e.name} has dtype ${dtypeName(e.dtype)}; only float32/float64 are supported`, { file: indexPath, tensor: e.name });
        skipped.push({ name: e.name, dtype: dtypeName(e.dtype) });
        continue;
      }
      const width = e.dtype === DT_FLOAT ? 4 : 8;
      const want = numel(e.shape) * width;
      if (e.size !== want) throw new EarshotError('MODEL_INVALID', `${indexPath}: tensor ${e.name} ${shapeStr(e.shape)} ${dtypeName(e.dtype)} records ${e.size} bytes, expected ${want}`, { file: indexPath, tensor: e.name });
      if (e.shard < 0 || e.shard >= shards) throw new EarshotError('MODEL_INVALID', `${indexPath}: tensor ${e.name} is in shard ${e.shard} of ${shards}`, { file: indexPath, tensor: e.name });
      let f = fds.get(e.shard);
      if (!f) {
        const p = dataShardPath(prefix, e.shard, shards);
        if (!existsSync(p)) throw new EarshotError('MODEL_NOT_FOUND', `checkpoint data file ${p} not found (needed for tensor ${e.name})`, { file: p, tensor: e.name });
        const fd = openSync(p, 'r');
        f = { fd, size: fstatSync(fd).size, path: p };
        fds.set(e.shard, f);
      }
      if (e.offset < 0 || e.offset + e.size > f.size) throw new EarshotError('DATA_CORRUPT', `${f.path}: tensor ${e.name} at offset ${e.offset}+${e.size} runs past the end of the file (${f.size} bytes; truncated?)`, { file: f.path, tensor: e.name });
      const bytes = new Uint8Array(e.size);
      if (readSync(f.fd, bytes, 0, e.size, e.offset) !== e.size) throw new EarshotError('DATA_CORRUPT', `${f.path}: short read for tensor ${e.name}`, { file: f.path, tensor: e.name });
      if (e.crc !== undefined && maskCrc(crc32c(bytes)) !== e.crc) {
        throw new EarshotError('DATA_CORRUPT', `${f.path}: tensor ${e.name} fails its crc32c check (data corrupt or index/data mismatch)`, { file: f.path, tensor: e.name });
      }
      tensors.push({ name: e.name, shape: e.shape, data: width === 4 ? f32FromBytes(bytes) : f32FromF64Bytes(bytes) });
      done += e.size;
      onProgress?.(done, total);
    }
  } finally {
    for (const f of fds.values()) closeSync(f.fd);
  }
  return { tensors, skipped };
}
