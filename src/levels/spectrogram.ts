import type { Patch } from '../features/contracts.js';
import type { SpectrogramFrames } from './contracts.js';

/**
 * The log-mel frames of each patch that no earlier patch covered (patches overlap), as
 * bytes: the dashboard's scrolling spectrogram. `hopSeconds` is the frontend's STFT hop.
 */
export class SpectrogramTap {
  private lastT = -Infinity;

  constructor(
    private readonly sourceId: string,
    private readonly hopSeconds: number,
    private readonly offset: () => number,
  ) {}

  /** A restarted source's first patch starts a new stream. */
  restart(): void {
    this.lastT = -Infinity;
  }

  push(p: Patch): SpectrogramFrames | undefined {
    const base = this.offset() + p.startSeconds;
    let first = 0;
    while (first < p.frames && base + first * this.hopSeconds <= this.lastT + this.hopSeconds / 2) first++;
    const n = p.frames - first;
    if (n <= 0) return undefined;
    this.lastT = base + (p.frames - 1) * this.hopSeconds;
    const rows = p.data.subarray(first * p.bands, p.frames * p.bands);
    let lo = Infinity;
    let hi = -Infinity;
    for (const v of rows) {
      if (!Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    if (!(hi > lo)) {
      lo = Number.isFinite(lo) ? lo : 0;
      hi = lo + 1;
    }
    const scale = 255 / (hi - lo);
    const data = new Uint8Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const v = rows[i]!;
      data[i] = Number.isFinite(v) ? Math.round((v - lo) * scale) : 0;
    }
    return { sourceId: this.sourceId, tSeconds: base + first * this.hopSeconds, hopSeconds: this.hopSeconds, frames: n, bands: p.bands, lo, hi, data };
  }
}
