import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/**
 * Row-major sgemm: C[M,N] = alpha * op(A) op(B) + beta * C, op = transpose when the flag is set.
 * `A` holds [M,K] (or [K,M] when transA) with row stride lda, likewise B and C.
 */
export interface Blas {
  readonly name: 'openblas' | 'ts';
  /** Fused elementwise kernels from the native addon; absent on the TS fallback. */
  readonly kernels?: NativeKernels;
  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: Float32Array, lda: number, b: Float32Array, ldb: number, beta: number, c: Float32Array, ldc: number): void;
}

/** C versions of the hot loops in layers.ts (same math, same xoshiro dropout stream). */
export interface NativeKernels {
  bnForward(
    h: Float32Array,
    rows: number,
    dim: number,
    gamma: Float32Array,
    beta: Float32Array,
    movingMean: Float32Array,
    movingVariance: Float32Array,
    training: boolean,
    dropout: number,
    rngState: Uint32Array | null,
    momentum: number,
    eps: number,
    xhat: Float32Array,
    invStd: Float32Array,
    out: Float32Array,
  ): void;
  bnBackward(
    out: Float32Array,
    dout: Float32Array,
    xhat: Float32Array,
    invStd: Float32Array,
    gamma: Float32Array,
    keepScale: number,
    rows: number,
    dim: number,
    dgamma: Float32Array,
    dbeta: Float32Array,
    dh: Float32Array,
  ): void;
  sigmoid(z: Float32Array): void;
  softmaxRows(z: Float32Array, rows: number, dim: number): void;
}

interface NativeAddon extends NativeKernels {
  sgemm: Blas['sgemm'];
  threads(): number;
}

/** Straightforward fallback; i-k-j order keeps the inner loop contiguous for the common cases. */
export const tsBlas: Blas = {
  name: 'ts',
  sgemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
    const row = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let p = 0; p < k; p++) {
        const av = ta ? a[p * lda + i]! : a[i * lda + p]!;
        if (av === 0) continue;
        if (tb) for (let j = 0; j < n; j++) row[j]! += av * b[j * ldb + p]!;
        else {
          const off = p * ldb;
          for (let j = 0; j < n; j++) row[j]! += av * b[off + j]!;
        }
      }
      const co = i * ldc;
      for (let j = 0; j < n; j++) c[co + j] = (beta === 0 ? 0 : beta * c[co + j]!) + alpha * row[j]!;
    }
  },
};

let cached: Blas | undefined;

/** The OpenBLAS addon (native/, built by `npm install`) when present, else the TS fallback. */
export function defaultBlas(): Blas {
  if (cached) return cached;
  cached = loadNative() ?? tsBlas;
  return cached;
}

function loadNative(): Blas | undefined {
  const path = fileURLToPath(new URL('../../native/build/Release/earshot_native.node', import.meta.url));
  if (!existsSync(path)) return undefined;
  try {
    const addon = createRequire(import.meta.url)(path) as NativeAddon;
    const kernels: NativeKernels = { bnForward: addon.bnForward, bnBackward: addon.bnBackward, sigmoid: addon.sigmoid, softmaxRows: addon.softmaxRows };
    return { name: 'openblas', sgemm: addon.sgemm, kernels };
  } catch {
    // A stale or foreign-ABI build: the fallback is correct, just slow.
    return undefined;
  }
}
