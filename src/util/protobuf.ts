/**
 * Minimal protobuf wire-format reader/writer, shared by the TF checkpoint
 * importer (BundleEntryProto, SavedTensorSlices, ...) and the AudioSet
 * SequenceExample codec: varints (exact 64-bit via `varint64`), fixed32/64,
 * length-delimited and packed repeated fields, unknown fields skipped.
 * Hand-written because the messages are tiny and fixed, a schema-driven decoder
 * costs more than the decoding itself, and every bound must be checked against
 * hostile input (fuzz tests). Malformed input throws `ProtoError` with the byte
 * offset; callers wrap it in their own EarshotError code.
 */

export class ProtoError extends Error {
  /** Byte offset inside the buffer where decoding failed. */
  readonly at: number;
  constructor(message: string, at: number) {
    super(message);
    this.name = 'ProtoError';
    this.at = at;
  }
}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LEN = 2;
export const WIRE_FIXED32 = 5;

/** A cursor over buf[start, end): every read is checked against `end`. */
export class ProtoReader {
  pos: number;
  readonly end: number;
  readonly buf: Uint8Array;
  private view: DataView | undefined;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** Varint as a JS number: exact up to 2^53; int64 negatives (10-byte two's complement) come out negative. */
  varint(): number {
    const b = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint', this.pos);
      const byte = b[this.pos++]!;
      if (shift < 28) lo |= (byte & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (byte & 0x0f) << 28;
        hi |= (byte & 0x7f) >>> 4;
      } else hi |= (byte & 0x7f) << (shift - 32);
      if ((byte & 0x80) === 0) {
        lo >>>= 0;
        return (hi | 0) * 0x100000000 + lo;
      }
      shift += 7;
    }
    throw new ProtoError('varint longer than 10 bytes', this.pos);
  }

  /** Varint as an exact unsigned 64-bit bigint (BigInt.asIntN(64, v) for int64 fields). */
  varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtoError('truncated varint', this.pos);
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    throw new ProtoError('varint longer than 10 bytes', this.pos);
  }

  /** A tag: field number and wire type. Field 0 and group wire types are invalid here. */
  tag(): { field: number; wire: number } {
    const at = this.pos;
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t % 8;
    if (field <= 0 || field > 0x1fffffff) throw new ProtoError(`invalid field number ${field}`, at);
    if (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5) throw new ProtoError(`unsupported wire type ${wire} for field ${field}`, at);
    return { field, wire };
  }

  /** Bounds of a length-delimited field, checked against the enclosing message before anything is allocated. */
  lenDelimited(): { start: number; end: number } {
    const at = this.pos;
    const n = this.varint();
    if (n < 0 || n > this.end - this.pos) throw new ProtoError(`length ${n} overruns message (${this.end - this.pos} bytes left)`, at);
    const start = this.pos;
    this.pos += n;
    return { start, end: this.pos };
  }

  /** The next `n` bytes (4 for fixed32, 8 for fixed64) as a view. */
  fixed(n: 4 | 8): Uint8Array {
    if (this.end - this.pos < n) throw new ProtoError(`truncated fixed${n * 8}`, this.pos);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  float32(): number {
    if (this.end - this.pos < 4) throw new ProtoError('truncated fixed32', this.pos);
    const v = this.dv().getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LEN) this.lenDelimited();
    else this.fixed(wire === WIRE_FIXED64 ? 8 : 4);
  }

  dv(): DataView {
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.view;
  }
}

/** One decoded field: varints exact (unsigned 64-bit), everything else as a view into the message. */
export type ProtoField =
  { readonly wire: 0; readonly value: bigint } | { readonly wire: 1; readonly bytes: Uint8Array } | { readonly wire: 2; readonly bytes: Uint8Array } | { readonly wire: 5; readonly bytes: Uint8Array };

/** A message as field number -> occurrences in wire order. */
export type ProtoMessage = ReadonlyMap<number, readonly ProtoField[]>;

/** Decodes every field of a message (no schema); throws ProtoError on malformed input. */
export function parseFields(buf: Uint8Array): ProtoMessage {
  const out = new Map<number, ProtoField[]>();
  const r = new ProtoReader(buf);
  while (!r.done()) {
    const { field, wire } = r.tag();
    let f: ProtoField;
    if (wire === WIRE_VARINT) f = { wire: 0, value: r.varint64() };
    else if (wire === WIRE_LEN) {
      const v = r.lenDelimited();
      f = { wire: 2, bytes: buf.subarray(v.start, v.end) };
    } else if (wire === WIRE_FIXED64) f = { wire: 1, bytes: r.fixed(8) };
    else f = { wire: 5, bytes: r.fixed(4) };
    const list = out.get(field);
    if (list) list.push(f);
    else out.set(field, [f]);
  }
  return out;
}

const utf8 = new TextEncoder();

/** Growable output buffer. `varint`/`fixed32`/`float32`/`bytes` write a tagged field; `write*` write a bare value (packed lists). */
export class ProtoWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** A bare varint; negatives (and bigints) as int64 two's complement, so negatives are always 10 bytes. */
  writeVarint(v: number | bigint): this {
    this.room(10);
    if (typeof v === 'bigint' || v < 0) {
      let x = BigInt.asUintN(64, BigInt(v));
      while (x >= 0x80n) {
        this.buf[this.len++] = Number(x & 0x7fn) | 0x80;
        x >>= 7n;
      }
      this.buf[this.len++] = Number(x);
      return this;
    }
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  /** A bare little-endian float32. */
  writeFloat32(v: number): this {
    this.room(4);
    new DataView(this.buf.buffer).setFloat32(this.len, v, true);
    this.len += 4;
    return this;
  }

  tag(field: number, wire: number): this {
    return this.writeVarint(field * 8 + wire);
  }

  varint(field: number, v: number | bigint): this {
    return this.tag(field, WIRE_VARINT).writeVarint(v);
  }

  fixed32(field: number, v: number): this {
    this.tag(field, WIRE_FIXED32).room(4);
    new DataView(this.buf.buffer).setUint32(this.len, v >>> 0, true);
    this.len += 4;
    return this;
  }

  float32(field: number, v: number): this {
    return this.tag(field, WIRE_FIXED32).writeFloat32(v);
  }

  bytes(field: number, data: Uint8Array | string): this {
    const b = typeof data === 'string' ? utf8.encode(data) : data;
    this.tag(field, WIRE_LEN).writeVarint(b.length);
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
