import { defer, map, type OperatorFunction } from 'rxjs';
import type { ScoreFrame } from './contracts.js';

/**
 * Per-label exponential smoothing with time constant `smoothingSeconds` over stream
 * time, so irregular hops (restarts, gaps) weigh correctly: alpha = 1 - exp(-dt/tau).
 * A gap longer than 5 tau effectively restarts the average. 0 = pass-through.
 * Emits fresh frames; inputs are never mutated (other subscribers may hold them).
 */
export function smoothScores(smoothingSeconds: number): OperatorFunction<ScoreFrame, ScoreFrame> {
  if (smoothingSeconds <= 0) return (src) => src;
  // defer: state per subscription, so one operator instance can serve several streams.
  return (src) =>
    defer(() => {
    let prev: Float32Array | undefined;
    let prevT = 0;
    return src.pipe(
      map((f) => {
        if (!prev || prev.length !== f.scores.length) {
          prev = Float32Array.from(f.scores);
        } else {
          const alpha = 1 - Math.exp(-Math.max(0, f.tSeconds - prevT) / smoothingSeconds);
          const next = new Float32Array(f.scores.length);
          for (let i = 0; i < next.length; i++) next[i] = prev[i]! + alpha * (f.scores[i]! - prev[i]!);
          prev = next;
        }
        prevT = f.tSeconds;
        return { ...f, scores: prev };
      }),
    );
  });
}
