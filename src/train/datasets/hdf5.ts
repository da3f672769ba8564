import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import h5wasm, { type Dataset, type File as H5File, type Filter, type Metadata, Module } from 'h5wasm/node';

import { EarshotError } from '../../errors.js';
import type { Storage } from '../../storage/contracts.js';
import { EMBEDDING_DIM } from './audioset.js';
import type { PackedClips } from './pack.js';

/**
 * Reader for Kong et al.'s packed AudioSet HDF5 files: `x` uint8 [N, T, 128],
 * `y` bool [N, C], `video_id_list` [N] strings. Reads hyperslabs (row ranges)
 * so a 2 GB file never has to fit in memory.
 *
 * h5wasm's high-level `slice()` ignores HDF5's read status: a chunk whose
 * filter is missing (LZF, id 32000) or whose deflate stream is corrupt comes
 * back as whatever was in the WASM heap. So numeric reads here call the
 * low-level `get_dataset_data` and check its status, and every dataset's
 * filter pipeline is checked up front against the filters this build decodes.
 */
export const DECODABLE_FILTERS: ReadonlyMap<number, string> = new Map([
  [1, 'deflate'],
  [2, 'shuffle'],
]);

const H5T_INTEGER = 0;
const H5T_STRING = 3;
const H5T_ENUM = 8;

export interface KongHdf5 {
  readonly path: string;
  readonly count: number;
  readonly timeSteps: number;
  readonly numClasses: number;
  /** Rows [start, end) packed like loadClips; `seconds` is `timeSteps` (the files do not keep true lengths). */
  read(start: number, end: number): PackedClips;
  close(): void;
}

export interface Hdf5Options {
  /** Upper bound on one read's buffer, so a corrupt shape cannot make us allocate gigabytes. */
  readonly maxReadBytes?: number;
}

function corrupt(path: string, why: string, cause?: unknown): EarshotError {
  return new EarshotError('DATA_CORRUPT', `HDF5 file ${path}: ${why}`, { path }, cause === undefined ? undefined : { cause });
}

function checkFilters(path: string, name: string, filters: Filter[]): void {
  for (const f of filters) {
    if (!DECODABLE_FILTERS.has(f.id)) {
      throw new EarshotError(
        'DATA_UNSUPPORTED',
        `HDF5 file ${path}: dataset ${name} uses filter ${f.name || 'unknown'} (id ${f.id}); only ${[...DECODABLE_FILTERS].map(([id, n]) => `${n} (${id})`).join(', ')} can be decoded`,
        { path, dataset: name, filterId: f.id, filterName: f.name },
      );
    }
  }
}

function dataset(file: H5File, path: string, name: string): { ds: Dataset; meta: Metadata; shape: number[] } {
  let ent: unknown;
  try {
    ent = file.get(name);
  } catch (e) {
    throw corrupt(path, `cannot open dataset ${name}`, e);
  }
  if (!(ent instanceof h5wasm.Dataset)) throw corrupt(path, `dataset ${name} missing`);
  let meta: Metadata;
  let filters: Filter[];
  try {
    meta = ent.metadata;
    filters = ent.filters;
  } catch (e) {
    throw corrupt(path, `cannot read the header of dataset ${name}`, e);
  }
  checkFilters(path, name, filters);
  const shape = meta.shape;
  if (!shape || shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw corrupt(path, `dataset ${name} has no valid shape`);
  return { ds: ent, meta, shape };
}

function checkByte(path: string, name: string, meta: Metadata, allowEnum: boolean): void {
  const ok = meta.size === 1 && (meta.type === H5T_INTEGER || (allowEnum && meta.type === H5T_ENUM));
  if (!ok) {
    throw new EarshotError('DATA_UNSUPPORTED', `HDF5 file ${path}: dataset ${name} must hold 1-byte ${allowEnum ? 'bool/' : ''}integers, got type class ${meta.type} of ${meta.size} bytes`, {
      path,
      dataset: name,
    });
  }
}

/** Reads rows [start, end) of a 1-byte dataset with a checked status. */
function readRows(path: string, name: string, ds: Dataset, shape: number[], start: number, end: number): Uint8Array {
  const rowBytes = shape.slice(1).reduce((a, b) => a * b, 1);
  const n = (end - start) * rowBytes;
  if (n === 0) return new Uint8Array(0);
  const ptr = Module._malloc(n);
  if (ptr === 0) throw corrupt(path, `cannot allocate ${n} bytes for ${name}`);
  try {
    const count = [BigInt(end - start), ...shape.slice(1).map(BigInt)];
    const offset = [BigInt(start), ...shape.slice(1).map(() => 0n)];
    const strides = shape.map(() => 1n);
    let status: number;
    try {
      status = Module.get_dataset_data(ds.file_id, ds.path, count, offset, strides, BigInt(ptr));
    } catch (e) {
      throw corrupt(path, `reading rows [${start}, ${end}) of ${name} failed`, e);
    }
    if (status < 0) throw corrupt(path, `reading rows [${start}, ${end}) of ${name} failed (HDF5 status ${status}: corrupt chunk or undecodable filter)`);
    return Module.HEAPU8.slice(ptr, ptr + n);
  } finally {
    Module._free(ptr);
  }
}

function readIds(path: string, ds: Dataset, meta: Metadata, start: number, end: number): string[] {
  if (end === start) return [];
  let raw: unknown;
  try {
    raw = ds.slice([[start, end]]);
  } catch (e) {
    throw corrupt(path, `reading video_id_list [${start}, ${end}) failed`, e);
  }
  const arr = Array.isArray(raw) ? raw : [];
  if (arr.length !== end - start || !arr.every((s): s is string => typeof s === 'string')) {
    throw corrupt(path, `video_id_list [${start}, ${end}) did not decode to ${end - start} strings (type class ${meta.type})`);
  }
  return arr;
}

export async function openKongHdf5(path: string, opts: Hdf5Options = {}): Promise<KongHdf5> {
  const maxReadBytes = opts.maxReadBytes ?? 256 << 20;
  if (!existsSync(path)) throw new EarshotError('DATA_NOT_FOUND', `HDF5 file ${path} not found`, { path });
  await h5wasm.ready;
  let file: H5File;
  try {
    file = new h5wasm.File(path, 'r');
  } catch (e) {
    throw corrupt(path, 'not a readable HDF5 file (bad superblock or truncated)', e);
  }
  try {
    const x = dataset(file, path, 'x');
    const y = dataset(file, path, 'y');
    const ids = dataset(file, path, 'video_id_list');
    checkByte(path, 'x', x.meta, false);
    checkByte(path, 'y', y.meta, true);
    if (ids.meta.type !== H5T_STRING) throw new EarshotError('DATA_UNSUPPORTED', `HDF5 file ${path}: video_id_list must be strings, got type class ${ids.meta.type}`, { path });
    if (x.shape.length !== 3 || x.shape[2] !== EMBEDDING_DIM || x.shape[1]! < 1) throw corrupt(path, `x has shape [${x.shape.join(', ')}], expected [N, T, ${EMBEDDING_DIM}]`);
    if (y.shape.length !== 2 || y.shape[1]! < 1) throw corrupt(path, `y has shape [${y.shape.join(', ')}], expected [N, classes]`);
    const count = x.shape[0]!;
    if (y.shape[0] !== count || ids.shape.length !== 1 || ids.shape[0] !== count) {
      throw corrupt(path, `row counts disagree: x ${count}, y ${y.shape[0]}, video_id_list ${ids.shape[0]}`);
    }
    const timeSteps = x.shape[1]!;
    const numClasses = y.shape[1]!;
    let open = true;
    return {
      path,
      count,
      timeSteps,
      numClasses,
      read(start, end) {
        if (!open) throw new EarshotError('INPUT_INVALID', `HDF5 file ${path} is closed`, { path });
        if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || end > count) {
          throw new EarshotError('INPUT_INVALID', `rows [${start}, ${end}) outside [0, ${count}) of ${path}`, { path, start, end });
        }
        const bytes = (end - start) * (timeSteps * EMBEDDING_DIM + numClasses);
        if (bytes > maxReadBytes) throw new EarshotError('INPUT_INVALID', `reading rows [${start}, ${end}) of ${path} needs ${bytes} bytes, over the ${maxReadBytes}-byte limit`, { path });
        const xs = readRows(path, 'x', x.ds, x.shape, start, end);
        const ys = readRows(path, 'y', y.ds, y.shape, start, end);
        for (let i = 0; i < ys.length; i++) {
          if (ys[i]! > 1) throw corrupt(path, `y row ${start + Math.floor(i / numClasses)} class ${i % numClasses} holds ${ys[i]}, not 0/1`);
        }
        const videoIds = readIds(path, ids.ds, ids.meta, start, end);
        return { count: end - start, timeSteps, numClasses, x: xs, y: ys, videoIds, seconds: new Uint16Array(end - start).fill(timeSteps) };
      },
      close() {
        if (open) file.close();
        open = false;
      },
    };
  } catch (e) {
    file.close();
    throw e;
  }
}

/** Streams a packed file in batches of `batchClips` rows. */
export async function* readKongHdf5(path: string, opts: Hdf5Options & { batchClips?: number } = {}): AsyncGenerator<PackedClips> {
  const f = await openKongHdf5(path, opts);
  const step = Math.max(1, opts.batchClips ?? 1000);
  try {
    for (let s = 0; s < f.count; s += step) yield f.read(s, Math.min(f.count, s + step));
  } finally {
    f.close();
  }
}

/**
 * Opens `key` of any Storage. HDF5 needs random access to a real file, so a
 * non-local object is first copied to a temp file (removed on close); a
 * file:// storage is read in place.
 */
export async function openKongHdf5FromStorage(storage: Storage, key: string, opts: Hdf5Options & { tmpDir?: string } = {}): Promise<KongHdf5> {
  if (storage.url.startsWith('file:')) return openKongHdf5(join(fileURLToPath(storage.url), ...key.split('/')), opts);
  const dir = mkdtempSync(join(opts.tmpDir ?? tmpdir(), 'earshot-h5-'));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  try {
    const path = join(dir, 'data.h5');
    writeFileSync(path, await storage.read(key));
    const f = await openKongHdf5(path, opts);
    return {
      ...f,
      path: `${storage.url}/${key}`,
      read: (start, end) => f.read(start, end),
      close() {
        f.close();
        cleanup();
      },
    };
  } catch (e) {
    cleanup();
    throw e;
  }
}
