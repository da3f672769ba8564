/**
 * Batched int8 dot products in WebAssembly SIMD (wasm/dot8.wat) for the brute-force
 * `--like` scan: the rows of the packed matrix are copied into the module's memory in
 * chunks of CHUNK_BYTES and each chunk is one kernel call. Integer sums are exact, so
 * the result equals the JS loop bit for bit (test/history/dot8.test.ts).
 *
 * Returns null (callers keep the JS loop) when the dimension is not a multiple of 16 or
 * the runtime has no WebAssembly SIMD.
 */
import { ensureMemory, instantiate, lazyWasmModule, type WasmMemory } from '../util/wasm.js';
import { DOT8_WASM_BASE64 } from './wasm/dot8-bytes.js';

interface Dot8Exports {
  readonly memory: WasmMemory;
  dots(q: number, m: number, rows: number, dim: number, out: number): void;
}

/** Rows staged per call: ~1 MiB of codes stays in L2. */
const CHUNK_BYTES = 1 << 20;

const module = lazyWasmModule(DOT8_WASM_BASE64);

export type Dot8 = (query: Int8Array, codes: Int8Array, rows: number, each: (firstRow: number, dots: Int32Array) => void) => void;

/** A kernel for one dimension: calls `each` with the dot products of consecutive row chunks. */
export function dot8Kernel(dim: number): Dot8 | null {
  const mod = module();
  if (!mod || dim % 16 !== 0 || dim === 0) return null;
  const ex = instantiate<Dot8Exports>(mod);
  const chunkRows = Math.max(1, Math.floor(CHUNK_BYTES / dim));
  const qAt = 0;
  const mAt = dim;
  const outAt = mAt + chunkRows * dim;
  const need = outAt + chunkRows * 4;
  ensureMemory(ex.memory, need);
  return (query, codes, rows, each) => {
    const mem = new Int8Array(ex.memory.buffer);
    mem.set(query, qAt);
    const out = new Int32Array(ex.memory.buffer, outAt, chunkRows);
    for (let r0 = 0; r0 < rows; r0 += chunkRows) {
      const n = Math.min(chunkRows, rows - r0);
      mem.set(codes.subarray(r0 * dim, (r0 + n) * dim), mAt);
      ex.dots(qAt, mAt, n, dim, outAt);
      each(r0, n === chunkRows ? out : out.subarray(0, n));
    }
  };
}
