/**
 * The part of WebAssembly the SIMD kernels use (resampler, log-mel, `--like` dot products).
 * The project's lib settings (ES2023, no DOM) do not declare WebAssembly, so it is typed here.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => object;
  readonly Instance: new (module: object, imports: object) => { readonly exports: unknown };
}

const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;

const PAGE_BYTES = 65536;

/**
 * A kernel's module, compiled once per process on first use (immutable; each user makes its
 * own instance and memory). The getter returns null where the runtime has no WebAssembly
 * SIMD: callers then keep their TypeScript path.
 */
export function lazyWasmModule(base64: string): () => object | null {
  let compiled: object | null | undefined;
  return () => {
    if (compiled === undefined) {
      try {
        compiled = wasmApi === undefined ? null : new wasmApi.Module(Buffer.from(base64, 'base64'));
      } catch {
        compiled = null; // no SIMD support in this runtime
      }
    }
    return compiled;
  };
}

/** A fresh instance of `mod` (no imports), its exports typed by the caller. */
export function instantiate<T>(mod: object): T {
  return new wasmApi!.Instance(mod, {}).exports as T;
}

/** Grows `memory` so that it holds at least `bytes`. */
export function ensureMemory(memory: WasmMemory, bytes: number): void {
  const pages = Math.ceil(bytes / PAGE_BYTES) - memory.buffer.byteLength / PAGE_BYTES;
  if (pages > 0) memory.grow(pages);
}
