import { EarshotError } from '../../errors.js';
import type { Weights } from '../contracts.js';

/** A tensor as a reader found it, before mapping to official names and layouts. */
export interface RawTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** What a reader returns: float tensors plus names it skipped (non-float, e.g. global_step). */
export interface ReadResult {
  readonly tensors: readonly RawTensor[];
  readonly skipped: ReadonlyArray<{ readonly name: string; readonly dtype: string }>;
}

export type ProgressFn = (doneBytes: number, totalBytes: number) => void;

/** Official variable name -> TF-layout shape (conv HWIO, dense [in, out]), in manifest order. */
export type VariableTable = ReadonlyArray<readonly [string, readonly number[]]>;

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * Checks reader output against the variable table: every float tensor must be a
 * known variable of the right shape, and every variable must be present.
 * Returns the weights in table order.
 */
export function checkAgainstTable(tensors: readonly RawTensor[], table: VariableTable, source: string): Weights {
  const expected = new Map(table);
  const found = new Map<string, RawTensor>();
  for (const t of tensors) {
    const shape = expected.get(t.name);
    if (!shape) throw new EarshotError('MODEL_UNKNOWN_VARIABLE', `${source}: unknown variable ${t.name} ${shapeStr(t.shape)} (expected only ${table.length} VGGish variables such as ${table[0]?.[0] ?? '?'})`, { source, tensor: t.name });
    if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) {
      throw new EarshotError('MODEL_SHAPE_MISMATCH', `${source}: tensor ${t.name} has shape ${shapeStr(t.shape)}, expected ${shapeStr(shape)}`, { source, tensor: t.name, shape: [...t.shape], expected: [...shape] });
    }
    if (t.data.length !== numel(shape)) throw new EarshotError('MODEL_INVALID', `${source}: tensor ${t.name} holds ${t.data.length} values, shape ${shapeStr(shape)} needs ${numel(shape)}`, { source, tensor: t.name });
    if (found.has(t.name)) throw new EarshotError('MODEL_INVALID', `${source}: tensor ${t.name} appears twice`, { source, tensor: t.name });
    found.set(t.name, t);
  }
  const missing = table.map(([n]) => n).filter((n) => !found.has(n));
  if (missing.length > 0) throw new EarshotError('MODEL_INVALID', `${source}: missing variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`, { source, missing });
  const out = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const [name, shape] of table) out.set(name, { shape, data: found.get(name)!.data });
  return out;
}

/** Rejects NaN/Inf: corrupt bytes that survive framing checks usually show up as these. */
export function checkFinite(t: RawTensor, source: string): void {
  for (let i = 0; i < t.data.length; i++) {
    if (!Number.isFinite(t.data[i]!)) throw new EarshotError('DATA_CORRUPT', `${source}: tensor ${t.name} holds a non-finite value (${t.data[i]}) at flat index ${i}`, { source, tensor: t.name });
  }
}

/** Copies little-endian float32 bytes into a fresh, aligned Float32Array. */
export function f32FromBytes(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length / 4);
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 4));
  return out;
}

export function f32FromF64Bytes(bytes: Uint8Array): Float32Array {
  const n = bytes.length / 8;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
  return out;
}

/** OIHW (PyTorch conv) -> HWIO (TF conv). */
export function oihwToHwio(data: Float32Array, shape: readonly number[]): { shape: number[]; data: Float32Array } {
  const [o, i, h, w] = shape as [number, number, number, number];
  const out = new Float32Array(data.length);
  for (let oo = 0; oo < o; oo++)
    for (let ii = 0; ii < i; ii++)
      for (let hh = 0; hh < h; hh++)
        for (let ww = 0; ww < w; ww++) out[((hh * w + ww) * i + ii) * o + oo] = data[((oo * i + ii) * h + hh) * w + ww]!;
  return { shape: [h, w, i, o], data: out };
}

/** 2-D transpose: PyTorch Linear [out, in] -> TF dense [in, out]. */
export function transpose2d(data: Float32Array, shape: readonly number[]): { shape: number[]; data: Float32Array } {
  const [r, c] = shape as [number, number];
  const out = new Float32Array(data.length);
  // Blocked: a naive loop strides through 200 MB of fc1 weights one cache miss per value.
  const B = 64;
  for (let i0 = 0; i0 < r; i0 += B)
    for (let j0 = 0; j0 < c; j0 += B) {
      const i1 = Math.min(r, i0 + B);
      const j1 = Math.min(c, j0 + B);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) out[j * r + i] = data[i * c + j]!;
    }
  return { shape: [c, r], data: out };
}

/** IEEE half -> float (TF.js float16 quantization and torch HalfStorage). */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
