import { EarshotError } from '../../errors.js';

/**
 * Snappy raw-format decompressor (table blocks with compression type 1).
 * TF's Saver writes uncompressed tables, but other writers may compress; a
 * strict decoder that bounds-checks every copy keeps corrupt input from
 * producing garbage.
 */
export function snappyDecompress(src: Uint8Array, what: string): Uint8Array {
  const fail = (msg: string): EarshotError => new EarshotError('MODEL_INVALID', `${what}: corrupt snappy block (${msg})`, { what });
  let pos = 0;
  let len = 0;
  let shift = 0;
  for (;;) {
    if (pos >= src.length || shift > 28) throw fail('bad length header');
    const b = src[pos++]!;
    len += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  const out = new Uint8Array(len);
  let o = 0;
  while (pos < src.length) {
    const tag = src[pos++]!;
    const type = tag & 3;
    if (type === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const extra = n - 59;
        if (pos + extra > src.length) throw fail('truncated literal length');
        n = 0;
        for (let i = 0; i < extra; i++) n += src[pos + i]! * 2 ** (8 * i);
        pos += extra;
      }
      n += 1;
      if (pos + n > src.length || o + n > len) throw fail('literal runs past the end');
      out.set(src.subarray(pos, pos + n), o);
      pos += n;
      o += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (type === 1) {
      if (pos + 1 > src.length) throw fail('truncated copy');
      n = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[pos++]!;
    } else if (type === 2) {
      if (pos + 2 > src.length) throw fail('truncated copy');
      n = (tag >>> 2) + 1;
      offset = src[pos]! | (src[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > src.length) throw fail('truncated copy');
      n = (tag >>> 2) + 1;
      offset = (src[pos]! | (src[pos + 1]! << 8) | (src[pos + 2]! << 16) | (src[pos + 3]! << 24)) >>> 0;
      pos += 4;
    }
    if (offset === 0 || offset > o || o + n > len) throw fail(`copy offset ${offset} length ${n} at ${o}`);
    for (let i = 0; i < n; i++, o++) out[o] = out[o - offset]!;
  }
  if (o !== len) throw fail(`decoded ${o} of ${len} bytes`);
  return out;
}
