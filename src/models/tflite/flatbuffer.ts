import { ByteBuffer } from 'flatbuffers';

import { EarshotError } from '../../errors.js';

/**
 * Bounds-checked access to flatbuffer tables on top of the `flatbuffers` runtime.
 *
 * The generated-code style accessors trust every offset; a truncated or hostile
 * file then reads past the end and yields silent garbage (undefined -> NaN / 0).
 * Every position here is checked against the buffer size first so a bad file
 * fails with MODEL_INVALID naming the table/field being read.
 */
export class FlatReader {
  readonly bb: ByteBuffer;
  readonly size: number;

  constructor(
    readonly bytes: Uint8Array,
    readonly source: string,
  ) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.byteLength;
  }

  fail(what: string, detail: string): never {
    throw new EarshotError('MODEL_INVALID', `${this.source}: ${what}: ${detail} (file has ${this.size} bytes; truncated or not a tflite flatbuffer?)`, {
      file: this.source,
      field: what,
    });
  }

  check(pos: number, len: number, what: string): void {
    if (!Number.isInteger(pos) || pos < 0 || len < 0 || pos + len > this.size) this.fail(what, `bytes [${pos}, ${pos + len}) are outside the file`);
  }

  u8(pos: number, what: string): number {
    this.check(pos, 1, what);
    return this.bb.readUint8(pos);
  }
  i8(pos: number, what: string): number {
    this.check(pos, 1, what);
    return this.bb.readInt8(pos);
  }
  u16(pos: number, what: string): number {
    this.check(pos, 2, what);
    return this.bb.readUint16(pos);
  }
  i32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.bb.readInt32(pos);
  }
  u32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.bb.readUint32(pos);
  }
  f32(pos: number, what: string): number {
    this.check(pos, 4, what);
    return this.bb.readFloat32(pos);
  }
  i64(pos: number, what: string): bigint {
    this.check(pos, 8, what);
    return this.bb.readInt64(pos);
  }
  u64(pos: number, what: string): bigint {
    this.check(pos, 8, what);
    return this.bb.readUint64(pos);
  }

  /** Follows a uoffset (relative, forward) stored at `pos`. */
  indirect(pos: number, what: string): number {
    return pos + this.u32(pos, what);
  }

  /** The root table's position, after checking the 4-byte file identifier. */
  root(identifier: string): number {
    if (this.size < 8) this.fail('header', `only ${this.size} bytes, a flatbuffer needs at least 8`);
    const id = String.fromCharCode(...this.bytes.subarray(4, 8));
    if (id !== identifier) {
      throw new EarshotError('MODEL_INVALID', `${this.source}: not a ${identifier} flatbuffer (file identifier is ${JSON.stringify(id)}, expected "${identifier}")`, {
        file: this.source,
        identifier: id,
      });
    }
    return this.indirect(0, 'root table offset');
  }

  table(pos: number, name: string): FlatTable {
    return new FlatTable(this, pos, name);
  }
}

/** One table instance: fields are addressed by their schema field index (vtable slot 4 + 2 * id). */
export class FlatTable {
  private readonly vtable: number;
  private readonly vtableSize: number;

  constructor(
    readonly r: FlatReader,
    readonly pos: number,
    readonly name: string,
  ) {
    this.vtable = pos - r.i32(pos, `${name} vtable offset`);
    this.vtableSize = r.u16(this.vtable, `${name} vtable`);
    if (this.vtableSize < 4 || this.vtableSize % 2 !== 0) r.fail(`${name} vtable`, `bad vtable size ${this.vtableSize}`);
    r.check(this.vtable, this.vtableSize, `${name} vtable`);
  }

  /** Absolute position of field `id`, or 0 when absent (default value applies). */
  field(id: number): number {
    const slot = 4 + 2 * id;
    if (slot >= this.vtableSize) return 0;
    const off = this.r.u16(this.vtable + slot, `${this.name} vtable`);
    return off === 0 ? 0 : this.pos + off;
  }

  private what(id: number, label: string): string {
    return `${this.name}.${label} (field ${id})`;
  }

  u8(id: number, label: string, dflt = 0): number {
    const p = this.field(id);
    return p ? this.r.u8(p, this.what(id, label)) : dflt;
  }
  i8(id: number, label: string, dflt = 0): number {
    const p = this.field(id);
    return p ? this.r.i8(p, this.what(id, label)) : dflt;
  }
  i32(id: number, label: string, dflt = 0): number {
    const p = this.field(id);
    return p ? this.r.i32(p, this.what(id, label)) : dflt;
  }
  u32(id: number, label: string, dflt = 0): number {
    const p = this.field(id);
    return p ? this.r.u32(p, this.what(id, label)) : dflt;
  }
  u64(id: number, label: string, dflt = 0n): bigint {
    const p = this.field(id);
    return p ? this.r.u64(p, this.what(id, label)) : dflt;
  }
  bool(id: number, label: string): boolean {
    return this.u8(id, label) !== 0;
  }

  subtable(id: number, label: string): FlatTable | undefined {
    const p = this.field(id);
    return p ? this.r.table(this.r.indirect(p, this.what(id, label)), this.what(id, label)) : undefined;
  }

  string(id: number, label: string): string | undefined {
    const v = this.vector(id, label, 1);
    return v ? new TextDecoder().decode(this.r.bytes.subarray(v.start, v.start + v.length)) : undefined;
  }

  /** A vector's element start and length, bounds-checked for `elemSize`-byte elements. */
  vector(id: number, label: string, elemSize: number): { start: number; length: number } | undefined {
    const p = this.field(id);
    if (!p) return undefined;
    const what = this.what(id, label);
    const vpos = this.r.indirect(p, what);
    const length = this.r.u32(vpos, `${what} length`);
    this.r.check(vpos + 4, length * elemSize, what);
    return { start: vpos + 4, length };
  }

  bytes(id: number, label: string): Uint8Array | undefined {
    const v = this.vector(id, label, 1);
    return v ? this.r.bytes.subarray(v.start, v.start + v.length) : undefined;
  }

  i32s(id: number, label: string): number[] {
    const v = this.vector(id, label, 4);
    return v ? Array.from({ length: v.length }, (_, i) => this.r.i32(v.start + 4 * i, this.what(id, label))) : [];
  }

  f32s(id: number, label: string): number[] {
    const v = this.vector(id, label, 4);
    return v ? Array.from({ length: v.length }, (_, i) => this.r.f32(v.start + 4 * i, this.what(id, label))) : [];
  }

  i64s(id: number, label: string): number[] {
    const v = this.vector(id, label, 8);
    return v ? Array.from({ length: v.length }, (_, i) => Number(this.r.i64(v.start + 8 * i, this.what(id, label)))) : [];
  }

  tables(id: number, label: string, elemName: string): FlatTable[] {
    const v = this.vector(id, label, 4);
    if (!v) return [];
    return Array.from({ length: v.length }, (_, i) => {
      const at = v.start + 4 * i;
      return this.r.table(this.r.indirect(at, `${this.what(id, label)}[${i}]`), `${elemName}[${i}]`);
    });
  }
}
