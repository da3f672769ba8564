import { readFileSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';

import { EarshotError } from '../../errors.js';

/**
 * Minimal .npz / .npy reader (numpy.savez output): a zip of .npy files, stored
 * or deflated, zip64 sizes tolerated. Only little-endian float arrays, which
 * is what VGGish's PCA params are. Values are returned as float64 in C order.
 */
export interface NpyArray {
  readonly dtype: '<f8' | '<f4';
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly crc: number;
  readonly compressedSize: number;
  readonly size: number;
  readonly localOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function corrupt(source: string, what: string): EarshotError {
  return new EarshotError('DATA_CORRUPT', `${source}: ${what}`, { file: source });
}

function u16(b: Uint8Array, o: number, source: string): number {
  if (o + 2 > b.length) throw corrupt(source, `truncated (needs byte ${o + 2}, file has ${b.length})`);
  return b[o]! | (b[o + 1]! << 8);
}

function u32(b: Uint8Array, o: number, source: string): number {
  if (o + 4 > b.length) throw corrupt(source, `truncated (needs byte ${o + 4}, file has ${b.length})`);
  return (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
}

function u64(b: Uint8Array, o: number, source: string): number {
  return u32(b, o, source) + u32(b, o + 4, source) * 2 ** 32;
}

/** Zip64 extended-information extra field (id 1) replaces the 0xFFFFFFFF placeholders in order. */
function zip64Sizes(b: Uint8Array, start: number, len: number, e: { size: number; compressedSize: number; localOffset: number }, source: string): void {
  let o = start;
  while (o + 4 <= start + len) {
    const id = u16(b, o, source);
    const n = u16(b, o + 2, source);
    if (id === 1) {
      let p = o + 4;
      if (e.size === 0xffffffff) (e.size = u64(b, p, source)), (p += 8);
      if (e.compressedSize === 0xffffffff) (e.compressedSize = u64(b, p, source)), (p += 8);
      if (e.localOffset === 0xffffffff) e.localOffset = u64(b, p, source);
    }
    o += 4 + n;
  }
}

export function listZip(b: Uint8Array, source: string): ZipEntry[] {
  let eocd = -1;
  for (let o = b.length - 22; o >= Math.max(0, b.length - 22 - 0xffff); o--) {
    if (u32(b, o, source) === EOCD) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) throw corrupt(source, 'not a zip/npz file or truncated (no end-of-central-directory record)');
  const count = u16(b, eocd + 10, source);
  let off = u32(b, eocd + 16, source);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (u32(b, off, source) !== CENTRAL) throw corrupt(source, `central directory entry ${i} is damaged`);
    const nameLen = u16(b, off + 28, source);
    const extraLen = u16(b, off + 30, source);
    const commentLen = u16(b, off + 32, source);
    if (off + 46 + nameLen > b.length) throw corrupt(source, 'truncated central directory');
    const e = {
      name: new TextDecoder().decode(b.subarray(off + 46, off + 46 + nameLen)),
      method: u16(b, off + 10, source),
      crc: u32(b, off + 16, source),
      compressedSize: u32(b, off + 20, source),
      size: u32(b, off + 24, source),
      localOffset: u32(b, off + 42, source),
    };
    zip64Sizes(b, off + 46 + nameLen, extraLen, e, source);
    entries.push(e);
    off += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

export function readZipEntry(b: Uint8Array, e: ZipEntry, source: string): Uint8Array {
  if (u32(b, e.localOffset, source) !== LOCAL) throw corrupt(source, `local header of ${e.name} is damaged`);
  const start = e.localOffset + 30 + u16(b, e.localOffset + 26, source) + u16(b, e.localOffset + 28, source);
  if (start + e.compressedSize > b.length) throw corrupt(source, `${e.name} is truncated (${b.length - start} of ${e.compressedSize} bytes)`);
  const raw = b.subarray(start, start + e.compressedSize);
  let data: Uint8Array;
  if (e.method === 0) data = raw;
  else if (e.method === 8) {
    try {
      data = inflateRawSync(raw);
    } catch (err) {
      throw corrupt(source, `${e.name} does not inflate: ${(err as Error).message}`);
    }
  } else throw new EarshotError('DATA_UNSUPPORTED', `${source}: ${e.name} uses zip method ${e.method} (only stored and deflate are supported)`, { file: source });
  if (data.length !== e.size) throw corrupt(source, `${e.name} inflates to ${data.length} bytes, directory says ${e.size}`);
  if (crc32(data) >>> 0 !== e.crc) throw corrupt(source, `${e.name} fails its CRC-32 check`);
  return data;
}

/** Parses one .npy file: magic, version, Python-literal header dict, then raw data. */
export function parseNpy(b: Uint8Array, source: string): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (b.length < 10 || magic.some((m, i) => b[i] !== m)) throw corrupt(source, 'not a .npy array (bad magic)');
  const major = b[6]!;
  const headerLen = major === 1 ? u16(b, 8, source) : u32(b, 8, source);
  const headerStart = major === 1 ? 10 : 12;
  if (headerStart + headerLen > b.length) throw corrupt(source, 'truncated .npy header');
  const header = new TextDecoder().decode(b.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) throw corrupt(source, `unreadable .npy header ${JSON.stringify(header.trim())}`);
  if (descr !== '<f8' && descr !== '<f4') throw new EarshotError('DATA_UNSUPPORTED', `${source}: dtype ${descr} is not supported (expected <f8 or <f4)`, { file: source });
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw corrupt(source, `bad shape (${shapeText})`);
  const n = shape.reduce((a, c) => a * c, 1);
  const itemSize = descr === '<f8' ? 8 : 4;
  const dataStart = headerStart + headerLen;
  if (b.length - dataStart < n * itemSize) throw corrupt(source, `truncated data: shape (${shape.join(', ')}) needs ${n * itemSize} bytes, file has ${b.length - dataStart}`);
  const view = new DataView(b.buffer, b.byteOffset + dataStart, n * itemSize);
  const flat = new Float64Array(n);
  for (let i = 0; i < n; i++) flat[i] = itemSize === 8 ? view.getFloat64(i * 8, true) : view.getFloat32(i * 4, true);
  return { dtype: descr, shape, data: fortran === 'True' ? fortranToC(flat, shape) : flat };
}

function fortranToC(f: Float64Array, shape: readonly number[]): Float64Array {
  const out = new Float64Array(f.length);
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  for (let c = 0; c < f.length; c++) {
    let fo = 0;
    let stride = 1;
    for (let d = 0; d < rank; d++) {
      fo += idx[d]! * stride;
      stride *= shape[d]!;
    }
    out[c] = f[fo]!;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** Reads every array of an .npz; keys drop the `.npy` suffix as numpy.load does. */
export function parseNpz(b: Uint8Array, source: string): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  for (const e of listZip(b, source)) {
    if (!e.name.endsWith('.npy')) continue;
    out.set(e.name.slice(0, -4), parseNpy(readZipEntry(b, e, source), `${source}:${e.name}`));
  }
  return out;
}

export function readNpz(path: string): Map<string, NpyArray> {
  let b: Uint8Array;
  try {
    b = readFileSync(path);
  } catch (e) {
    throw new EarshotError('DATA_NOT_FOUND', `cannot read ${path}: ${(e as Error).message}`, { file: path });
  }
  return parseNpz(b, path);
}
