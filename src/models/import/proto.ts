import { EarshotError } from '../../errors.js';

/**
 * Minimal protobuf wire-format codec: the checkpoint protos (BundleEntryProto,
 * SavedTensorSlices, ...) are tiny and fixed, so a field-number map is simpler
 * and stricter than a schema compiler.
 */
export type ProtoField =
  | { readonly wire: 0; readonly value: bigint }
  | { readonly wire: 1; readonly bytes: Uint8Array }
  | { readonly wire: 2; readonly bytes: Uint8Array }
  | { readonly wire: 5; readonly bytes: Uint8Array };

export type ProtoMessage = ReadonlyMap<number, readonly ProtoField[]>;

function bad(what: string, msg: string): EarshotError {
  return new EarshotError('MODEL_INVALID', `${what}: ${msg}`, { what });
}

/** Reads a varint at `pos`; returns [value, next position]. */
export function readVarint(buf: Uint8Array, pos: number, what: string): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw bad(what, 'truncated varint');
    const b = buf[pos++]!;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [BigInt.asUintN(64, result), pos];
    shift += 7n;
  }
  throw bad(what, 'varint longer than 10 bytes');
}

/** Varint as a JS number; rejects values that would lose precision. */
export function readVarintNumber(buf: Uint8Array, pos: number, what: string): [number, number] {
  const [v, next] = readVarint(buf, pos, what);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(what, `varint ${v} is out of range`);
  return [Number(v), next];
}

export function parseMessage(buf: Uint8Array, what: string): ProtoMessage {
  const out = new Map<number, ProtoField[]>();
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarintNumber(buf, pos, what);
    pos = p1;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 0) throw bad(what, 'field number 0');
    let f: ProtoField;
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos, what);
      pos = p2;
      f = { wire: 0, value: v };
    } else if (wire === 1 || wire === 5) {
      const n = wire === 1 ? 8 : 4;
      if (pos + n > buf.length) throw bad(what, `truncated fixed${n * 8} field ${field}`);
      f = { wire, bytes: buf.subarray(pos, pos + n) };
      pos += n;
    } else if (wire === 2) {
      const [len, p2] = readVarintNumber(buf, pos, what);
      if (p2 + len > buf.length) throw bad(what, `field ${field} length ${len} runs past the end (${buf.length - p2} bytes left)`);
      f = { wire: 2, bytes: buf.subarray(p2, p2 + len) };
      pos = p2 + len;
    } else throw bad(what, `unsupported wire type ${wire} for field ${field}`);
    const list = out.get(field);
    if (list) list.push(f);
    else out.set(field, [f]);
  }
  return out;
}

function last(m: ProtoMessage, field: number): ProtoField | undefined {
  const l = m.get(field);
  return l ? l[l.length - 1] : undefined;
}

export function getInt(m: ProtoMessage, field: number, what: string, def = 0): number {
  const f = last(m, field);
  if (!f) return def;
  if (f.wire !== 0) throw bad(what, `field ${field} should be a varint`);
  const v = BigInt.asIntN(64, f.value);
  if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) throw bad(what, `field ${field} value ${v} is out of range`);
  return Number(v);
}

export function getFixed32(m: ProtoMessage, field: number, what: string): number | undefined {
  const f = last(m, field);
  if (!f) return undefined;
  if (f.wire !== 5) throw bad(what, `field ${field} should be fixed32`);
  return (f.bytes[0]! | (f.bytes[1]! << 8) | (f.bytes[2]! << 16) | (f.bytes[3]! << 24)) >>> 0;
}

export function getBytes(m: ProtoMessage, field: number, what: string): Uint8Array | undefined {
  const f = last(m, field);
  if (!f) return undefined;
  if (f.wire !== 2) throw bad(what, `field ${field} should be length-delimited`);
  return f.bytes;
}

export function getString(m: ProtoMessage, field: number, what: string): string {
  const b = getBytes(m, field, what);
  return b ? new TextDecoder('utf-8', { fatal: false }).decode(b) : '';
}

export function getMessages(m: ProtoMessage, field: number, what: string): ProtoMessage[] {
  return (m.get(field) ?? []).map((f) => {
    if (f.wire !== 2) throw bad(what, `field ${field} should be a message`);
    return parseMessage(f.bytes, what);
  });
}

export function getMessage(m: ProtoMessage, field: number, what: string): ProtoMessage | undefined {
  const b = getBytes(m, field, what);
  return b ? parseMessage(b, what) : undefined;
}

/** Repeated varints, packed (proto3 default) or not. */
export function getPackedInts(m: ProtoMessage, field: number, what: string): number[] {
  const out: number[] = [];
  for (const f of m.get(field) ?? []) {
    if (f.wire === 0) out.push(Number(BigInt.asIntN(64, f.value)));
    else if (f.wire === 2) {
      let pos = 0;
      while (pos < f.bytes.length) {
        const [v, p] = readVarint(f.bytes, pos, what);
        out.push(Number(BigInt.asIntN(64, v)));
        pos = p;
      }
    } else throw bad(what, `field ${field} should be varints`);
  }
  return out;
}

/** Appends encoded fields; `finish` returns the message bytes. */
export class ProtoWriter {
  private readonly parts: Uint8Array[] = [];

  private static varintBytes(v: bigint): Uint8Array {
    let x = BigInt.asUintN(64, v);
    const out: number[] = [];
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) b |= 0x80;
      out.push(b);
    } while (x !== 0n);
    return Uint8Array.from(out);
  }

  private tag(field: number, wire: number): void {
    this.parts.push(ProtoWriter.varintBytes(BigInt(field * 8 + wire)));
  }

  varint(field: number, v: number | bigint): this {
    this.tag(field, 0);
    this.parts.push(ProtoWriter.varintBytes(BigInt(v)));
    return this;
  }

  fixed32(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    this.parts.push(b);
    return this;
  }

  bytes(field: number, data: Uint8Array | string): this {
    const b = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    this.tag(field, 2);
    this.parts.push(ProtoWriter.varintBytes(BigInt(b.length)), b);
    return this;
  }

  finish(): Uint8Array {
    const n = this.parts.reduce((a, p) => a + p.length, 0);
    const out = new Uint8Array(n);
    let off = 0;
    for (const p of this.parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  }
}
