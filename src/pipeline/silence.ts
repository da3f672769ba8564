import type { AudioChunk } from '../audio/contracts.js';

/** RMS level of a chunk in dBFS (full scale = 1.0); digital silence is -Infinity. */
export function chunkDbfs(samples: Float32Array): number {
  if (samples.length === 0) return -Infinity;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return 10 * Math.log10(sum / samples.length);
}

/**
 * Reports transitions between sound and silence over stream time: `silent` once the
 * level has stayed below `silenceDbfs` for `silenceSeconds`, `sound` on the first
 * loud chunk after that. Flat input is a state of a live source, not a failure.
 */
export class SilenceTracker {
  private quietSeconds = 0;
  private silent = false;

  constructor(
    private readonly silenceDbfs: number,
    private readonly silenceSeconds: number,
  ) {}

  push(chunk: AudioChunk): 'silent' | 'sound' | undefined {
    const seconds = chunk.samples.length / chunk.sampleRateHz;
    if (chunkDbfs(chunk.samples) < this.silenceDbfs) {
      this.quietSeconds += seconds;
      if (!this.silent && this.quietSeconds >= this.silenceSeconds) {
        this.silent = true;
        return 'silent';
      }
      return undefined;
    }
    this.quietSeconds = 0;
    if (this.silent) {
      this.silent = false;
      return 'sound';
    }
    return undefined;
  }
}

/** Capped exponential backoff: initial * 2^failures, at most max (seconds). */
export function restartDelaySeconds(failures: number, initialSeconds: number, maxSeconds: number): number {
  return Math.min(maxSeconds, initialSeconds * 2 ** Math.min(failures, 30));
}
