/**
 * Bounded retries with capped exponential backoff and full jitter. The policy
 * and the sleep are injected so tests run without real waiting and production
 * code never retries forever.
 */
export interface RetryPolicy {
  /** Attempts in total (1 = no retry). */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  /** In [0, 1); injected so tests can make the jitter deterministic. */
  readonly random: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  attempts: 6,
  baseDelayMs: 100,
  maxDelayMs: 2000,
  sleep: (ms) => new Promise((res) => setTimeout(res, ms)),
  random: Math.random,
};

/** Delay before retry number `n` (1-based): uniform in [0, min(max, base * 2^(n-1))]. */
export function backoffMs(policy: RetryPolicy, n: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
  return Math.floor(policy.random() * (cap + 1));
}

/** Runs `op` until it succeeds, fails with a non-transient error, or attempts run out (last error rethrown). */
export async function withRetries<T>(policy: RetryPolicy, isTransient: (e: unknown) => boolean, op: (attempt: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (e) {
      if (attempt >= policy.attempts || !isTransient(e)) throw e;
      await policy.sleep(backoffMs(policy, attempt));
    }
  }
}
