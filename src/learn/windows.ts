/**
 * Which base-model windows of a recording hold the sound: a 10 ms energy envelope,
 * thresholded relative to the recording's own peak and floor, then summarised per
 * window (0.96 s every 0.48 s for YAMNet). Gains differ between recordings, so levels
 * are relative, never absolute dBFS.
 */
export const FRAME_SECONDS = 0.01;

export function frameDb(samples: Float32Array, rateHz: number): Float32Array {
  const len = Math.round(FRAME_SECONDS * rateHz);
  const n = Math.max(1, Math.ceil(samples.length / len));
  const out = new Float32Array(n);
  for (let f = 0; f < n; f++) {
    let e = 0;
    const end = Math.min(samples.length, (f + 1) * len);
    for (let i = f * len; i < end; i++) e += samples[i]! * samples[i]!;
    out[f] = 10 * Math.log10(e / Math.max(1, end - f * len) + 1e-12);
  }
  return out;
}

function quantile(a: Float32Array, q: number): number {
  const s = Float32Array.from(a).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.floor(q * (s.length - 1))))]!;
}

/**
 * Active frames: above both peak - 30 dB and the recording's floor (10th percentile) + 10 dB.
 * A recording that is sound throughout (no quiet part to contrast with) is all active.
 */
export function activeFrames(samples: Float32Array, rateHz: number): Uint8Array {
  const db = frameDb(samples, rateHz);
  let peak = -Infinity;
  for (const v of db) peak = Math.max(peak, v);
  const floor = quantile(db, 0.1);
  const mask = new Uint8Array(db.length);
  const th = Math.max(peak - 30, floor + 10);
  if (th > peak - 3) return mask.fill(1);
  for (let i = 0; i < db.length; i++) mask[i] = db[i]! >= th ? 1 : 0;
  return mask;
}

/** First and last active frame (inclusive), or undefined when none is. */
export function activeSpan(mask: Uint8Array): { first: number; last: number } | undefined {
  const first = mask.indexOf(1);
  if (first < 0) return undefined;
  return { first, last: mask.lastIndexOf(1) };
}

export type WindowRole = 'positive' | 'negative' | 'ignore';

/**
 * Role of each window [start, start + windowSeconds): positive when at least 40% of it
 * is active or it holds at least 60% of all the active audio (short sounds), negative
 * when none of it is, else ignored (a sliver of the sound: neither label is honest).
 */
export function windowRoles(mask: Uint8Array, startSeconds: readonly number[], windowSeconds: number): WindowRole[] {
  let total = 0;
  for (const v of mask) total += v;
  const wFrames = Math.round(windowSeconds / FRAME_SECONDS);
  return startSeconds.map((s) => {
    const a = Math.round(s / FRAME_SECONDS);
    let n = 0;
    for (let f = Math.max(0, a); f < Math.min(mask.length, a + wFrames); f++) n += mask[f]!;
    if (n === 0) return 'negative';
    if (n >= 0.4 * wFrames || n >= 0.6 * total) return 'positive';
    return 'ignore';
  });
}
