import { EarshotError } from '../../errors.js';
import type { Storage } from '../../storage/contracts.js';
import { maskedCrc32c } from '../../util/crc32c.js';

/**
 * TFRecord framing: `u64 length LE, u32 masked crc32c(length bytes), payload,
 * u32 masked crc32c(payload)`. The reader pulls the file in chunks through
 * Storage.readRange (a short read means end of file, so small files cost one
 * request and no size() call), verifies both CRCs and never trusts a length
 * before its CRC and a size cap have been checked: a corrupt length of 2^60
 * is an error, not an allocation.
 */
export interface TFRecord {
  /** View into the reader's chunk; stays valid (chunks are never reused) but copy what you keep long-term. */
  readonly payload: Uint8Array;
  /** Byte offset of the record's header in the file. */
  readonly offset: number;
}

export interface TFRecordReadOptions {
  /** Bytes per readRange request. AudioSet files (~10 kB) fit in one. */
  readonly chunkBytes?: number;
  /** Records larger than this are treated as corrupt lengths. */
  readonly maxRecordBytes?: number;
  readonly verifyCrc?: boolean;
  /** Already-started read of [0, chunkBytes) (lets a caller prefetch the next files). */
  readonly firstChunk?: Promise<Buffer>;
}

export const DEFAULT_CHUNK_BYTES = 1 << 20;
export const DEFAULT_MAX_RECORD_BYTES = 64 << 20;
const HEADER = 12;
const FOOTER = 4;

function corrupt(storage: Storage, key: string, offset: number, why: string): EarshotError {
  return new EarshotError('DATA_CORRUPT', `corrupt TFRecord ${storage.url}/${key} at byte ${offset}: ${why}`, {
    url: storage.url,
    key,
    offset,
  });
}

/** Sliding window over a storage object, refilled with readRange. */
class Window {
  buf: Uint8Array = new Uint8Array(0);
  /** File offset of buf[0]. */
  base = 0;
  eof = false;
  private first: Promise<Buffer> | undefined;

  constructor(
    private readonly storage: Storage,
    private readonly key: string,
    private readonly chunk: number,
    first: Promise<Buffer> | undefined,
  ) {
    this.first = first;
  }

  /** Makes bytes [at, at+n) available unless the file ends first; returns how many are. */
  async ensure(at: number, n: number): Promise<number> {
    while (this.base + this.buf.length < at + n && !this.eof) {
      const from = this.base + this.buf.length;
      const want = Math.max(this.chunk, at + n - from);
      const got = this.first && from === 0 ? await this.first : await this.storage.readRange(this.key, from, from + want);
      this.first = undefined;
      if (got.length < want) this.eof = true;
      // Keep only what is still needed, in a fresh buffer, so earlier payload views stay intact.
      const keepFrom = Math.max(0, at - this.base);
      const next = new Uint8Array(this.buf.length - keepFrom + got.length);
      next.set(this.buf.subarray(keepFrom), 0);
      next.set(got, this.buf.length - keepFrom);
      this.base += keepFrom;
      this.buf = next;
    }
    return Math.max(0, Math.min(n, this.base + this.buf.length - at));
  }
}

export async function* readTFRecords(storage: Storage, key: string, opts: TFRecordReadOptions = {}): AsyncGenerator<TFRecord> {
  const chunk = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
  const maxRecord = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const verify = opts.verifyCrc ?? true;
  const w = new Window(storage, key, chunk, opts.firstChunk);
  let offset = 0;
  for (;;) {
    const have = await w.ensure(offset, HEADER);
    if (have === 0) return;
    if (have < HEADER) throw corrupt(storage, key, offset, `truncated header (${have} of ${HEADER} bytes)`);
    let h = offset - w.base;
    const dv = new DataView(w.buf.buffer, w.buf.byteOffset, w.buf.byteLength);
    const lenLo = dv.getUint32(h, true);
    const lenHi = dv.getUint32(h + 4, true);
    if (verify && maskedCrc32c(w.buf, h, h + 8) !== dv.getUint32(h + 8, true)) {
      throw corrupt(storage, key, offset, 'length CRC mismatch');
    }
    const len = lenHi * 0x100000000 + lenLo;
    if (lenHi !== 0 || len > maxRecord) throw corrupt(storage, key, offset, `record length ${len} exceeds limit ${maxRecord}`);
    const total = HEADER + len + FOOTER;
    const got = await w.ensure(offset, total);
    if (got < total) throw corrupt(storage, key, offset, `truncated record (${got} of ${total} bytes)`);
    h = offset - w.base;
    const start = h + HEADER;
    const payload = w.buf.subarray(start, start + len);
    if (verify) {
      const want = new DataView(w.buf.buffer, w.buf.byteOffset, w.buf.byteLength).getUint32(start + len, true);
      if (maskedCrc32c(w.buf, start, start + len) !== want) throw corrupt(storage, key, offset, 'payload CRC mismatch');
    }
    yield { payload, offset };
    offset += total;
  }
}

/** Frames payloads as one TFRecord file body. */
export function encodeTFRecords(payloads: Iterable<Uint8Array>): Buffer {
  const parts: Buffer[] = [];
  for (const p of payloads) {
    const head = Buffer.alloc(HEADER);
    head.writeUInt32LE(p.length >>> 0, 0);
    head.writeUInt32LE(Math.floor(p.length / 0x100000000), 4);
    head.writeUInt32LE(maskedCrc32c(head, 0, 8), 8);
    const foot = Buffer.alloc(FOOTER);
    foot.writeUInt32LE(maskedCrc32c(p), 0);
    parts.push(head, Buffer.from(p.buffer, p.byteOffset, p.byteLength), foot);
  }
  return Buffer.concat(parts);
}

export async function writeTFRecordFile(storage: Storage, key: string, payloads: Iterable<Uint8Array>): Promise<void> {
  await storage.writeAtomic(key, encodeTFRecords(payloads));
}
