import { EarshotError } from '../../errors.js';
import type { TfliteModel, TfliteTensor } from './schema.js';

function count(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * Per-element (scale, zero point) lookup. With per-channel quantization the channel
 * of flat index i along dimension d is floor(i / stride(d)) % shape[d], stride being
 * the product of the dimensions after d (row-major).
 */
function channelOf(t: TfliteTensor, source: string): (i: number) => number {
  const q = t.quantization!;
  if (q.scale.length === 1) return () => 0;
  const d = q.quantizedDimension;
  const dim = t.shape[d];
  if (dim === undefined || dim !== q.scale.length) {
    throw new EarshotError('MODEL_INVALID', `${source}: tensor ${t.name} has ${q.scale.length} quantization scales along dimension ${d}, but its shape is [${t.shape.join(',')}]`, { file: source, tensor: t.name });
  }
  const stride = count(t.shape.slice(d + 1));
  return (i) => Math.floor(i / stride) % dim;
}

/**
 * A constant tensor as float32 in its tflite layout: float32/float16 as stored,
 * int8/uint8/int16 dequantized as scale[c] * (q - zero_point[c]) per channel (or per tensor).
 * Reads through a DataView because flatbuffer vectors are not guaranteed 4-byte aligned.
 */
export function tensorToFloat32(model: TfliteModel, t: TfliteTensor): Float32Array {
  const buf = model.buffers[t.buffer];
  const n = count(t.shape);
  if (!buf || buf.length === 0) throw new EarshotError('MODEL_INVALID', `${model.source}: tensor ${t.name} (#${t.index}) has no constant data (buffer ${t.buffer} is empty)`, { file: model.source, tensor: t.name });
  const bytesPer: Record<string, number> = { FLOAT32: 4, FLOAT16: 2, INT8: 1, UINT8: 1, INT16: 2 };
  const size = bytesPer[t.type];
  if (size === undefined) throw new EarshotError('MODEL_INVALID', `${model.source}: tensor ${t.name} has type ${t.type}; expected float32, float16, int8, uint8 or int16 weights`, { file: model.source, tensor: t.name });
  if (buf.length !== n * size) {
    throw new EarshotError('MODEL_INVALID', `${model.source}: tensor ${t.name} [${t.shape.join(',')}] ${t.type} needs ${n * size} bytes, its buffer has ${buf.length}`, { file: model.source, tensor: t.name });
  }
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out = new Float32Array(n);
  if (t.type === 'FLOAT32') {
    for (let i = 0; i < n; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  if (t.type === 'FLOAT16') {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
    return out;
  }
  const q = t.quantization;
  if (!q) throw new EarshotError('MODEL_INVALID', `${model.source}: tensor ${t.name} is ${t.type} without quantization parameters`, { file: model.source, tensor: t.name });
  const ch = channelOf(t, model.source);
  const read = t.type === 'INT8' ? (i: number) => view.getInt8(i) : t.type === 'UINT8' ? (i: number) => view.getUint8(i) : (i: number) => view.getInt16(2 * i, true);
  for (let i = 0; i < n; i++) {
    const c = ch(i);
    out[i] = q.scale[c]! * (read(i) - (q.zeroPoint[c] ?? q.zeroPoint[0] ?? 0));
  }
  return out;
}

/** TFLite conv filters are OHWI; TF (and earshot's engines) use HWIO. */
export function ohwiToHwio(data: Float32Array, shape: readonly number[]): { shape: number[]; data: Float32Array } {
  const [o, h, w, i] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let oo = 0; oo < o; oo++)
    for (let hh = 0; hh < h; hh++)
      for (let ww = 0; ww < w; ww++)
        for (let ii = 0; ii < i; ii++) out[((hh * w + ww) * i + ii) * o + oo] = data[((oo * h + hh) * w + ww) * i + ii]!;
  return { shape: [h, w, i, o], data: out };
}

/**
 * TFLite depthwise filters are [1, H, W, C*M]; TF's are [H, W, C, M]. With the
 * output channel laid out as c*M + m both flatten to the same order, so only the shape changes.
 */
export function depthwiseToHwcm(data: Float32Array, shape: readonly number[], multiplier: number): { shape: number[]; data: Float32Array } {
  const [, h, w, cm] = shape as [number, number, number, number];
  return { shape: [h, w, cm / multiplier, multiplier], data };
}

/** TFLite fully-connected weights are [out, in]; dense layers take [in, out]. */
export function transpose2d(data: Float32Array, shape: readonly number[]): { shape: number[]; data: Float32Array } {
  const [rows, cols] = shape as [number, number];
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return { shape: [cols, rows], data: out };
}
