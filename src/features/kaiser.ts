/**
 * resampy 0.4.2's `kaiser_best` interpolation filter, computed here rather than
 * shipped: a Kaiser-windowed sinc half-window (right wing), as produced by
 * `resampy.filters.sinc_window(num_zeros=50, precision=13, window=kaiser(beta), rolloff)`.
 * Entry i sits at time i / precisionPerCrossing zero crossings.
 */
export interface SincFilter {
  /** Right wing of the filter, `numZeros * precisionPerCrossing + 1` entries. */
  readonly halfWindow: Float64Array;
  /** Table entries per zero crossing (resampy's `precision` as returned by get_filter). */
  readonly precisionPerCrossing: number;
  readonly numZeros: number;
  readonly rolloff: number;
  readonly beta: number;
}

export const KAISER_BEST = Object.freeze({ numZeros: 50, precisionPerCrossing: 8192, beta: 12.9846, rolloff: 0.917347 });

/**
 * Modified Bessel function of the first kind, order 0, by its power series
 * sum_k ((x/2)^k / k!)^2. For |x| <= ~30 every term is positive and the series
 * converges to full float64 precision, which is all the Kaiser window needs
 * (beta = 12.98 here).
 */
export function besselI0(x: number): number {
  const q = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 500; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

/** numpy's sinc: sin(pi x) / (pi x), 1 at 0. */
function sinc(x: number): number {
  if (x === 0) return 1;
  const y = Math.PI * x;
  return Math.sin(y) / y;
}

/** Builds a Kaiser-windowed sinc half-window exactly as resampy's sinc_window does (float64). */
export function kaiserSincHalfWindow(numZeros: number, precisionPerCrossing: number, beta: number, rolloff: number): Float64Array {
  const n = numZeros * precisionPerCrossing;
  const out = new Float64Array(n + 1);
  // np.linspace(0, num_zeros, n + 1): i * (num_zeros / n), the last entry forced to num_zeros.
  const step = numZeros / n;
  const i0Beta = besselI0(beta);
  // scipy's kaiser(2n + 1, beta)[n:]: alpha = n, so the ratio (k - alpha) / alpha is i / n.
  for (let i = 0; i <= n; i++) {
    const x = i === n ? numZeros : i * step;
    const r = i / n;
    const taper = besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta;
    out[i] = taper * (rolloff * sinc(rolloff * x));
  }
  return out;
}

// The table is a pure function of fixed constants: compute it once per process
// on first use (about 50 ms) and never mutate it.
let kaiserBestCache: SincFilter | undefined;

export function kaiserBest(): SincFilter {
  if (kaiserBestCache === undefined) {
    const { numZeros, precisionPerCrossing, beta, rolloff } = KAISER_BEST;
    kaiserBestCache = Object.freeze({
      halfWindow: kaiserSincHalfWindow(numZeros, precisionPerCrossing, beta, rolloff),
      precisionPerCrossing,
      numZeros,
      rolloff,
      beta,
    });
  }
  return kaiserBestCache;
}
