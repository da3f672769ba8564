/**
 * Minimal protobuf wire-format reader/writer: just what tf.train.SequenceExample
 * needs (varints, fixed32/64, length-delimited, packed repeated). Hand-written
 * because a schema-driven decoder costs more than the decoding itself here and
 * every bound must be checked against hostile input (fuzz tests).
 */

export class ProtoError extends Error {
  /** Byte offset inside the message where decoding failed. */
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

  /** A tag: field number and wire type. Field 0 and group wire types are invalid here. */
  tag(): { field: number; wire: number } {
    const at = this.pos;
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t % 8;
    if (field <= 0 || field > 0x1fffffff) throw new ProtoError(`invalid field number ${field}`, at);
    if (wire !== 0 && wire !== 1 && wire !== 2 && wire !== 5) throw new ProtoError(`unsupported wire type ${wire}`, at);
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

  float32(): number {
    if (this.end - this.pos < 4) throw new ProtoError('truncated fixed32', this.pos);
    const v = this.dv().getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  skip(wire: number): void {
    const at = this.pos;
    if (wire === WIRE_VARINT) this.varint();
    else if (wire === WIRE_LEN) this.lenDelimited();
    else {
      const n = wire === WIRE_FIXED64 ? 8 : 4;
      if (this.end - this.pos < n) throw new ProtoError(`truncated fixed${n * 8}`, at);
      this.pos += n;
    }
  }

  dv(): DataView {
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.view;
  }
}

/** Growable output buffer for encoding. */
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

  varint(v: number): this {
    this.room(10);
    if (v < 0) {
      // int64 two's complement: always 10 bytes.
      let lo = Number(BigInt.asUintN(64, BigInt(v)) & 0xffffffffn);
      let hi = Number(BigInt.asUintN(64, BigInt(v)) >> 32n);
      for (let i = 0; i < 9; i++) {
        this.buf[this.len++] = (lo & 0x7f) | 0x80;
        lo = ((lo >>> 7) | (hi << 25)) >>> 0;
        hi >>>= 7;
      }
      this.buf[this.len++] = lo & 0x01;
      return this;
    }
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, WIRE_LEN).varint(data.length);
    this.room(data.length);
    this.buf.set(data, this.len);
    this.len += data.length;
    return this;
  }

  float32(v: number): this {
    this.room(4);
    new DataView(this.buf.buffer).setFloat32(this.len, v, true);
    this.len += 4;
    return this;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
