import { EarshotError } from '../../errors.js';
import { parseFields, ProtoError, type ProtoField, type ProtoMessage,ProtoReader } from '../../util/protobuf.js';

export { type ProtoField, type ProtoMessage,ProtoWriter } from '../../util/protobuf.js';

/**
 * Field access for the checkpoint protos (BundleEntryProto, SavedTensorSlices, ...)
 * over the shared wire codec (src/util/protobuf.ts): the protos are tiny and fixed,
 * so a field-number map is simpler and stricter than a schema compiler. Every
 * failure is MODEL_INVALID naming `what` (the file and message being read).
 */
function bad(what: string, msg: string): EarshotError {
  return new EarshotError('MODEL_INVALID', `${what}: ${msg}`, { what });
}

/** Runs a codec call, turning its ProtoError into MODEL_INVALID naming `what` and the byte offset. */
function wrap<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ProtoError) throw bad(what, `${e.message} at byte ${e.at}`);
    throw e;
  }
}

/** Reads a varint at `pos` as a JS number (rejects values that would lose precision); returns [value, next position]. */
export function readVarintNumber(buf: Uint8Array, pos: number, what: string): [number, number] {
  const r = new ProtoReader(buf, pos);
  const v = wrap(what, () => r.varint64());
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw bad(what, `varint ${v} is out of range`);
  return [Number(v), r.pos];
}

export function parseMessage(buf: Uint8Array, what: string): ProtoMessage {
  return wrap(what, () => parseFields(buf));
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
      const r = new ProtoReader(f.bytes);
      while (!r.done()) out.push(Number(BigInt.asIntN(64, wrap(what, () => r.varint64()))));
    } else throw bad(what, `field ${field} should be varints`);
  }
  return out;
}
