import { defer, map, type OperatorFunction } from 'rxjs';

import type { ScoreFrame } from './contracts.js';

/**
 * Per-label exponential smoothing with time constant `smoothingSeconds` over stream
 * time, so irregular hops (restarts, gaps) weigh correctly: alpha = 1 - exp(-dt/tau).
 * A gap longer than 5 tau effectively restarts the average. 0 = pass-through.
 * Emits fresh frames; inputs are never mutated (other subscribers may hold them).
 */
export class ScoreSmoother {
  private prev: Float32Array | undefined;
  private prevT = 0;

  constructor(private readonly smoothingSeconds: number) {}

  push(f: ScoreFrame): ScoreFrame {
    if (this.smoothingSeconds <= 0) return f;
    const prev = this.prev;
    if (!prev || prev.length !== f.scores.length) {
      this.prev = Float32Array.from(f.scores);
    } else {
      const alpha = 1 - Math.exp(-Math.max(0, f.tSeconds - this.prevT) / this.smoothingSeconds);
      const next = new Float32Array(f.scores.length);
      for (let i = 0; i < next.length; i++) next[i] = prev[i]! + alpha * (f.scores[i]! - prev[i]!);
      this.prev = next;
    }
    this.prevT = f.tSeconds;
    return { ...f, scores: this.prev! };
  }

  /** A restarted source starts a new average. */
  reset(): void {
    this.prev = undefined;
    this.prevT = 0;
  }
}

/** The smoother as an operator; `defer` gives each subscription its own state. */
export function smoothScores(smoothingSeconds: number): OperatorFunction<ScoreFrame, ScoreFrame> {
  if (smoothingSeconds <= 0) return (src) => src;
  return (src) =>
    defer(() => {
      const s = new ScoreSmoother(smoothingSeconds);
      return src.pipe(map((f) => s.push(f)));
    });
}
