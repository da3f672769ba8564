import { EarshotError } from '../../errors.js';
import { crc32c, maskCrc } from '../../util/crc32c.js';
import { ProtoWriter } from '../../util/protobuf.js';
import { readVarintNumber } from './proto.js';
import { snappyDecompress } from './snappy.js';

/**
 * TensorFlow's table format (a LevelDB SSTable copy, tensorflow/core/lib/io/table*):
 * data blocks of prefix-compressed key/value entries with restart points, each
 * followed by a 5-byte trailer (compression type, masked crc32c of block+type),
 * a metaindex block, an index block mapping separator keys to block handles,
 * and a 48-byte footer ending in the table magic. Checkpoint .index files (V2) and
 * single-file V1 checkpoints are both tables.
 */
export const TABLE_MAGIC_LO = 0x8b80fb57;
export const TABLE_MAGIC_HI = 0xdb477524;
const FOOTER_BYTES = 48;
const TRAILER_BYTES = 5;

export interface TableEntry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

interface Handle {
  readonly offset: number;
  readonly size: number;
}

function fail(file: string, msg: string): EarshotError {
  return new EarshotError('MODEL_INVALID', `${file}: not a valid TensorFlow table (${msg})`, { file });
}

export function hasTableMagic(buf: Uint8Array): boolean {
  if (buf.length < FOOTER_BYTES) return false;
  const dv = new DataView(buf.buffer, buf.byteOffset + buf.length - 8, 8);
  return dv.getUint32(0, true) === TABLE_MAGIC_LO && dv.getUint32(4, true) === TABLE_MAGIC_HI;
}

function readHandle(buf: Uint8Array, pos: number, file: string): [Handle, number] {
  const [offset, p1] = readVarintNumber(buf, pos, file);
  const [size, p2] = readVarintNumber(buf, p1, file);
  return [{ offset, size }, p2];
}

/** Reads one block's contents, verifying its trailer CRC and decompressing it. */
function readBlock(buf: Uint8Array, h: Handle, file: string, label: string): Uint8Array {
  if (h.offset + h.size + TRAILER_BYTES > buf.length) throw fail(file, `${label} block at ${h.offset}+${h.size} runs past the end of the file (${buf.length} bytes)`);
  const contents = buf.subarray(h.offset, h.offset + h.size);
  const type = buf[h.offset + h.size]!;
  const stored = new DataView(buf.buffer, buf.byteOffset + h.offset + h.size + 1, 4).getUint32(0, true);
  const actual = maskCrc(crc32c(buf, h.offset, h.offset + h.size + 1));
  if (stored !== actual) {
    throw new EarshotError('DATA_CORRUPT', `${file}: ${label} block at offset ${h.offset} fails its crc32c check (stored ${stored.toString(16)}, computed ${actual.toString(16)})`, { file });
  }
  if (type === 0) return contents;
  if (type === 1) return snappyDecompress(contents, `${file} ${label} block at ${h.offset}`);
  throw fail(file, `${label} block at ${h.offset} uses unsupported compression type ${type}`);
}

/** Decodes every entry of a block, checking prefix lengths and restart points. */
export function parseBlock(block: Uint8Array, file: string): TableEntry[] {
  if (block.length < 4) throw fail(file, 'block shorter than its restart count');
  const dv = new DataView(block.buffer, block.byteOffset, block.length);
  const numRestarts = dv.getUint32(block.length - 4, true);
  const restartsAt = block.length - 4 - 4 * numRestarts;
  if (numRestarts === 0 || restartsAt < 0) throw fail(file, `bad restart count ${numRestarts}`);
  const restarts = new Set<number>();
  for (let i = 0; i < numRestarts; i++) {
    const r = dv.getUint32(restartsAt + 4 * i, true);
    if (r > restartsAt) throw fail(file, `restart point ${r} outside the block`);
    restarts.add(r);
  }
  const entries: TableEntry[] = [];
  let prev: Uint8Array = new Uint8Array(0);
  let pos = 0;
  while (pos < restartsAt) {
    const start = pos;
    const [shared, p1] = readVarintNumber(block, pos, file);
    const [nonShared, p2] = readVarintNumber(block, p1, file);
    const [valueLen, p3] = readVarintNumber(block, p2, file);
    if (restarts.has(start) && shared !== 0) throw fail(file, `entry at restart point ${start} shares a key prefix`);
    if (shared > prev.length) throw fail(file, `entry at ${start} shares ${shared} bytes of a ${prev.length}-byte key`);
    if (p3 + nonShared + valueLen > restartsAt) throw fail(file, `entry at ${start} runs past the block's entries`);
    const key = new Uint8Array(shared + nonShared);
    key.set(prev.subarray(0, shared));
    key.set(block.subarray(p3, p3 + nonShared), shared);
    const value = block.subarray(p3 + nonShared, p3 + nonShared + valueLen);
    entries.push({ key, value });
    prev = key;
    pos = p3 + nonShared + valueLen;
  }
  return entries;
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** All entries of a table, in key order. Values are views into `buf`. */
export function readTable(buf: Uint8Array, file: string): TableEntry[] {
  if (buf.length < FOOTER_BYTES) throw fail(file, `file is ${buf.length} bytes, shorter than the ${FOOTER_BYTES}-byte footer`);
  if (!hasTableMagic(buf)) throw fail(file, 'bad magic number in footer (truncated or not a checkpoint)');
  const footer = buf.subarray(buf.length - FOOTER_BYTES, buf.length - 8);
  const [, p] = readHandle(footer, 0, file); // metaindex: TF writes no filter blocks, so it is unused
  const [index] = readHandle(footer, p, file);
  const indexEntries = parseBlock(readBlock(buf, index, file, 'index'), file);
  const out: TableEntry[] = [];
  for (const ie of indexEntries) {
    const [h] = readHandle(ie.value, 0, file);
    for (const e of parseBlock(readBlock(buf, h, file, 'data'), file)) {
      if (out.length > 0 && compareBytes(out[out.length - 1]!.key, e.key) >= 0) throw fail(file, 'keys out of order');
      out.push(e);
    }
  }
  return out;
}

/**
 * Builds a table exactly as TF's TableBuilder does with kNoCompression
 * (restart interval 16, blocks cut once they reach `blockBytes`). Entries must be
 * in strictly increasing key order.
 */
export function buildTable(entries: readonly TableEntry[], blockBytes = 262144): Uint8Array {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const emit = (b: Uint8Array): Handle => {
    const h = { offset, size: b.length };
    const trailer = new Uint8Array(TRAILER_BYTES); // type 0 (uncompressed), then the CRC of block + type byte
    new DataView(trailer.buffer).setUint32(1, maskCrc(crc32c(trailer, 0, 1, crc32c(b))), true);
    chunks.push(b, trailer);
    offset += b.length + TRAILER_BYTES;
    return h;
  };
  const index: TableEntry[] = [];
  let block: TableEntry[] = [];
  let blockSize = 0;
  const flush = (): void => {
    if (block.length === 0) return;
    const h = emit(encodeBlock(block));
    index.push({ key: block[block.length - 1]!.key, value: varints(h.offset, h.size) });
    block = [];
    blockSize = 0;
  };
  for (let i = 0; i < entries.length; i++) {
    if (i > 0 && compareBytes(entries[i - 1]!.key, entries[i]!.key) >= 0) throw new EarshotError('INTERNAL', 'buildTable: keys must be strictly increasing');
    block.push(entries[i]!);
    blockSize += entries[i]!.key.length + entries[i]!.value.length + 8;
    if (blockSize >= blockBytes) flush();
  }
  flush();
  const meta = emit(encodeBlock([]));
  const idx = emit(encodeBlock(index));
  const footer = new Uint8Array(FOOTER_BYTES);
  footer.set(varints(meta.offset, meta.size, idx.offset, idx.size));
  const dv = new DataView(footer.buffer);
  dv.setUint32(40, TABLE_MAGIC_LO, true);
  dv.setUint32(44, TABLE_MAGIC_HI, true);
  chunks.push(footer);
  return concat(chunks);
}

/** Bare concatenated varints (block handles, entry headers). */
function varints(...ns: number[]): Uint8Array {
  const w = new ProtoWriter();
  for (const n of ns) w.writeVarint(n);
  return w.finish();
}

function encodeBlock(entries: readonly TableEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const restarts: number[] = [0];
  let size = 0;
  let prev: Uint8Array = new Uint8Array(0);
  entries.forEach((e, i) => {
    let shared = 0;
    if (i % 16 === 0) {
      if (i > 0) restarts.push(size);
    } else {
      const n = Math.min(prev.length, e.key.length);
      while (shared < n && prev[shared] === e.key[shared]) shared++;
    }
    const head = varints(shared, e.key.length - shared, e.value.length);
    parts.push(head, e.key.subarray(shared), e.value);
    size += head.length + e.key.length - shared + e.value.length;
    prev = e.key;
  });
  const tail = new Uint8Array(4 * restarts.length + 4);
  const dv = new DataView(tail.buffer);
  restarts.forEach((r, i) => dv.setUint32(4 * i, r, true));
  dv.setUint32(4 * restarts.length, restarts.length, true);
  parts.push(tail);
  return concat(parts);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
