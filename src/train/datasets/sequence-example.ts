import { ProtoError, ProtoReader, ProtoWriter, WIRE_FIXED32, WIRE_LEN, WIRE_VARINT } from '../../util/protobuf.js';

/**
 * tf.train.SequenceExample, decoded generically:
 *   SequenceExample { Features context = 1; FeatureLists feature_lists = 2; }
 *   Features        { map<string, Feature> feature = 1; }
 *   FeatureLists    { map<string, FeatureList> feature_list = 1; }
 *   FeatureList     { repeated Feature feature = 1; }
 *   Feature         { oneof { BytesList bytes_list = 1; FloatList float_list = 2; Int64List int64_list = 3; } }
 * Bytes values are views into the payload (no copies); callers copy what they keep.
 */
export type Feature =
  { readonly kind: 'bytes'; readonly value: Uint8Array[] } | { readonly kind: 'float'; readonly value: number[] } | { readonly kind: 'int64'; readonly value: number[] } | { readonly kind: 'none' };

export interface SequenceExample {
  readonly context: Map<string, Feature>;
  readonly featureLists: Map<string, Feature[]>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeString(r: ProtoReader, start: number, end: number): string {
  try {
    return utf8.decode(r.buf.subarray(start, end));
  } catch {
    throw new ProtoError('map key is not valid UTF-8', start);
  }
}

function decodeFeature(r: ProtoReader, start: number, end: number): Feature {
  const sub = new ProtoReader(r.buf, start, end);
  let f: Feature = { kind: 'none' };
  while (!sub.done()) {
    const { field, wire } = sub.tag();
    if (wire !== WIRE_LEN || field > 3) {
      sub.skip(wire);
      continue;
    }
    const inner = sub.lenDelimited();
    // A oneof set twice keeps the last value, as protobuf parsers do.
    if (field === 1) f = { kind: 'bytes', value: decodeBytesList(r.buf, inner.start, inner.end) };
    else if (field === 2) f = { kind: 'float', value: decodeFloatList(r.buf, inner.start, inner.end) };
    else f = { kind: 'int64', value: decodeInt64List(r.buf, inner.start, inner.end) };
  }
  return f;
}

function decodeBytesList(buf: Uint8Array, start: number, end: number): Uint8Array[] {
  const r = new ProtoReader(buf, start, end);
  const out: Uint8Array[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) {
      const v = r.lenDelimited();
      out.push(buf.subarray(v.start, v.end));
    } else r.skip(wire);
  }
  return out;
}

function decodeFloatList(buf: Uint8Array, start: number, end: number): number[] {
  const r = new ProtoReader(buf, start, end);
  const out: number[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) {
      const v = r.lenDelimited();
      if ((v.end - v.start) % 4 !== 0) throw new ProtoError(`packed float list of ${v.end - v.start} bytes`, v.start);
      const p = new ProtoReader(buf, v.start, v.end);
      while (!p.done()) out.push(p.float32());
    } else if (field === 1 && wire === WIRE_FIXED32) out.push(r.float32());
    else r.skip(wire);
  }
  return out;
}

function decodeInt64List(buf: Uint8Array, start: number, end: number): number[] {
  const r = new ProtoReader(buf, start, end);
  const out: number[] = [];
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WIRE_LEN) {
      const v = r.lenDelimited();
      const p = new ProtoReader(buf, v.start, v.end);
      while (!p.done()) out.push(p.varint());
    } else if (field === 1 && wire === WIRE_VARINT) out.push(r.varint());
    else r.skip(wire);
  }
  return out;
}

/** Walks `map<string, V>` entries (field 1 of Features/FeatureLists), calling `put` per entry. */
function decodeMap(r: ProtoReader, start: number, end: number, put: (key: string, vStart: number, vEnd: number) => void): void {
  const m = new ProtoReader(r.buf, start, end);
  while (!m.done()) {
    const { field, wire } = m.tag();
    if (field !== 1 || wire !== WIRE_LEN) {
      m.skip(wire);
      continue;
    }
    const entry = m.lenDelimited();
    const e = new ProtoReader(r.buf, entry.start, entry.end);
    let key = '';
    let vStart = 0;
    let vEnd = 0;
    while (!e.done()) {
      const t = e.tag();
      if (t.wire === WIRE_LEN && (t.field === 1 || t.field === 2)) {
        const v = e.lenDelimited();
        if (t.field === 1) key = decodeString(e, v.start, v.end);
        else {
          vStart = v.start;
          vEnd = v.end;
        }
      } else e.skip(t.wire);
    }
    put(key, vStart, vEnd);
  }
}

function decodeFeatureList(r: ProtoReader, start: number, end: number): Feature[] {
  const l = new ProtoReader(r.buf, start, end);
  const out: Feature[] = [];
  while (!l.done()) {
    const { field, wire } = l.tag();
    if (field === 1 && wire === WIRE_LEN) {
      const v = l.lenDelimited();
      out.push(decodeFeature(l, v.start, v.end));
    } else l.skip(wire);
  }
  return out;
}

/** Decodes a serialized SequenceExample; throws ProtoError (with the byte offset) on malformed input. */
export function decodeSequenceExample(payload: Uint8Array): SequenceExample {
  const r = new ProtoReader(payload);
  const context = new Map<string, Feature>();
  const featureLists = new Map<string, Feature[]>();
  while (!r.done()) {
    const { field, wire } = r.tag();
    if (wire !== WIRE_LEN || (field !== 1 && field !== 2)) {
      r.skip(wire);
      continue;
    }
    const v = r.lenDelimited();
    if (field === 1) decodeMap(r, v.start, v.end, (k, s, e) => context.set(k, decodeFeature(r, s, e)));
    else decodeMap(r, v.start, v.end, (k, s, e) => featureLists.set(k, decodeFeatureList(r, s, e)));
  }
  return { context, featureLists };
}

export interface EncodeOptions {
  /** Write float/int64 lists packed (TensorFlow's default) or one tag per value. */
  readonly packed?: boolean;
}

function encodeFeature(f: Feature, opts: EncodeOptions): Uint8Array {
  const w = new ProtoWriter();
  const list = new ProtoWriter();
  const packed = opts.packed ?? true;
  if (f.kind === 'none') return w.finish();
  if (f.kind === 'bytes') {
    for (const b of f.value) list.bytes(1, b);
    return w.bytes(1, list.finish()).finish();
  }
  if (f.kind === 'float') {
    if (packed) {
      const p = new ProtoWriter();
      for (const v of f.value) p.writeFloat32(v);
      list.bytes(1, p.finish());
    } else for (const v of f.value) list.float32(1, v);
    return w.bytes(2, list.finish()).finish();
  }
  if (packed) {
    const p = new ProtoWriter();
    for (const v of f.value) p.writeVarint(v);
    list.bytes(1, p.finish());
  } else for (const v of f.value) list.varint(1, v);
  return w.bytes(3, list.finish()).finish();
}

const utf8enc = new TextEncoder();

function mapEntry(key: string, value: Uint8Array): Uint8Array {
  return new ProtoWriter().bytes(1, utf8enc.encode(key)).bytes(2, value).finish();
}

export function encodeSequenceExample(se: SequenceExample, opts: EncodeOptions = {}): Uint8Array {
  const ctx = new ProtoWriter();
  for (const [k, f] of se.context) ctx.bytes(1, mapEntry(k, encodeFeature(f, opts)));
  const lists = new ProtoWriter();
  for (const [k, fs] of se.featureLists) {
    const fl = new ProtoWriter();
    for (const f of fs) fl.bytes(1, encodeFeature(f, opts));
    lists.bytes(1, mapEntry(k, fl.finish()));
  }
  return new ProtoWriter().bytes(1, ctx.finish()).bytes(2, lists.finish()).finish();
}
