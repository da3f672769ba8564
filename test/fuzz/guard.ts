import assert from 'node:assert/strict';

import { type ErrorCode, isEarshotError } from '../../src/errors.js';

/** Per-case limits: a case that takes longer, or grows RSS by more, is a finding (a hang or a spike). */
export const CASE_TIMEOUT_MS = 10_000;
export const CASE_RSS_LIMIT_BYTES = 512 * 1024 * 1024;

/**
 * Runs one fuzz case: it must end in a value or an EarshotError whose code is in `allowed`,
 * within CASE_TIMEOUT_MS, and RSS must not grow more than CASE_RSS_LIMIT_BYTES over the run's
 * starting point. Returns the outcome ('ok' or the error code) for the tallies in docs/reliability.md.
 */
export async function runCase(label: string, allowed: ReadonlySet<ErrorCode>, baseRss: number, fn: () => unknown): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: no result within ${CASE_TIMEOUT_MS} ms`)), CASE_TIMEOUT_MS);
  });
  let outcome = 'ok';
  try {
    await Promise.race([Promise.resolve().then(fn), timeout]);
  } catch (e) {
    assert.ok(isEarshotError(e) && allowed.has(e.code), `${label}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    outcome = e.code;
  } finally {
    clearTimeout(timer);
  }
  const rss = process.memoryUsage().rss;
  assert.ok(rss - baseRss < CASE_RSS_LIMIT_BYTES, `${label}: RSS ${Math.round(rss / 2 ** 20)} MB, started at ${Math.round(baseRss / 2 ** 20)} MB`);
  return outcome;
}

export function tally(outcomes: Record<string, number>, outcome: string): void {
  outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
}
