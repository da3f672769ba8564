import { EarshotError } from '../errors.js';
import { halfToFloat } from './import/tensors.js';

/**
 * Compact storage of weights.bin tensors (engines always get float32):
 * - float16: IEEE half, round to nearest even;
 * - int8: symmetric per output channel (the last axis: HWIO's O, dense's out; for a last
 *   axis of 1, as depthwise HWC1, the last two), q = round(w / s) with s = max|w| / 127 per
 *   channel, followed by the float32 scales.
 * Tensors of rank < 2 (biases) always stay float32: they are tiny and carry the offsets.
 */
export type WeightDtype = 'float32' | 'float16' | 'int8';
export const WEIGHT_DTYPES: readonly WeightDtype[] = ['float32', 'float16', 'int8'];

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** float -> IEEE half bits, round to nearest even (overflow to infinity, underflow to subnormals/zero). */
export function floatToHalf(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  e = h >>> 10;
  return sign | h;
}

export function storedDtype(shape: readonly number[], wanted: WeightDtype): WeightDtype {
  return shape.length < 2 ? 'float32' : wanted;
}

/** Bytes of a tensor's stored form (int8 includes its scales), before 4-byte alignment. */
export function storedBytes(shape: readonly number[], dtype: WeightDtype): number {
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'float16') return 2 * n;
  if (dtype === 'int8') return align4(n) + 4 * scaleChannels(shape);
  return 4 * n;
}

export const align4 = (n: number): number => Math.ceil(n / 4) * 4;

/** Scale groups of an int8 tensor: value i belongs to channel i % channels. */
export function scaleChannels(shape: readonly number[]): number {
  const last = shape[shape.length - 1]!;
  return last === 1 && shape.length >= 2 ? shape[shape.length - 2]! : last;
}

export function encodeTensor(data: Float32Array, shape: readonly number[], dtype: WeightDtype): Uint8Array {
  if (dtype === 'float32') return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (dtype === 'float16') {
    const h = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) h[i] = floatToHalf(data[i]!);
    return new Uint8Array(h.buffer);
  }
  const c = scaleChannels(shape);
  const out = new Uint8Array(storedBytes(shape, 'int8'));
  const q = new Int8Array(out.buffer, 0, data.length);
  const scales = new Float32Array(out.buffer, align4(data.length), c);
  for (let i = 0; i < data.length; i++) scales[i % c] = Math.max(scales[i % c]!, Math.abs(data[i]!));
  for (let j = 0; j < c; j++) scales[j] = scales[j]! > 0 ? scales[j]! / 127 : 1;
  for (let i = 0; i < data.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(data[i]! / scales[i % c]!)));
  return out;
}

/** The float32 values of a stored tensor; `bytes` starts at the tensor (4-byte aligned for float32). */
export function decodeTensor(bytes: Uint8Array, shape: readonly number[], dtype: WeightDtype, what: string): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength < storedBytes(shape, dtype)) throw new EarshotError('MODEL_INVALID', `${what} runs past the end of the weights file`, { tensor: what });
  if (dtype === 'float32') return new Float32Array(bytes.buffer, bytes.byteOffset, n);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  if (dtype === 'float16') {
    for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
    return out;
  }
  if (dtype !== 'int8') throw new EarshotError('MODEL_INVALID', `${what}: unknown weight dtype '${String(dtype)}'`, { tensor: what });
  const c = scaleChannels(shape);
  const base = align4(n);
  for (let i = 0; i < n; i++) out[i] = dv.getInt8(i) * dv.getFloat32(base + 4 * (i % c), true);
  return out;
}
