import type { Rng } from '../train/rng.js';
import { activeFrames, activeSpan, FRAME_SECONDS } from './windows.js';

/**
 * Training variants of one example: the sound (trimmed to its active span) with a random
 * gain, EQ tilt and speed, placed at a random offset inside background audio mixed at a
 * chosen SNR. `mask` marks the frames (10 ms) where the placed sound is active, computed
 * on the clean sound, so window labels never depend on the background.
 */
export interface Variant {
  readonly samples: Float32Array;
  readonly mask: Uint8Array;
}

export interface AugmentOptions {
  readonly rateHz: number;
  /** SNRs (dB) the background is mixed at; Infinity = no background. */
  readonly snrDb: readonly number[];
  /** Variants per example (the first is the example as recorded, unshifted). */
  readonly variants: number;
  /** Hard negatives made from each example (see `augment`). */
  readonly negativeVariants: number;
  readonly maxSpeedChange: number;
  readonly maxEqDb: number;
}

export const DEFAULT_AUGMENT: Omit<AugmentOptions, 'rateHz'> = { snrDb: [0, 5, 10, 20, Infinity], variants: 12, negativeVariants: 4, maxSpeedChange: 0.06, maxEqDb: 6 };

/** The active part of a recording plus 0.2 s either side, at most 30 s. */
export function trimToSound(samples: Float32Array, rateHz: number): { sound: Float32Array; mask: Uint8Array } {
  const mask = activeFrames(samples, rateHz);
  const span = activeSpan(mask)!;
  const pad = Math.round(0.2 / FRAME_SECONDS);
  const f0 = Math.max(0, span.first - pad);
  const f1 = Math.min(mask.length, Math.min(span.last + 1 + pad, f0 + Math.round(30 / FRAME_SECONDS)));
  const per = Math.round(FRAME_SECONDS * rateHz);
  return { sound: samples.slice(f0 * per, Math.min(samples.length, f1 * per)), mask: mask.slice(f0, f1) };
}

/** Linear-interpolation speed change (pitch and tempo together, as a slightly fast or slow playback). */
export function changeSpeed(x: Float32Array, factor: number): Float32Array {
  if (factor === 1) return x;
  const n = Math.max(1, Math.floor(x.length / factor));
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const p = i * factor;
    const j = Math.floor(p);
    const f = p - j;
    y[i] = (x[j] ?? 0) * (1 - f) + (x[j + 1] ?? x[j] ?? 0) * f;
  }
  return y;
}

/** A tilt EQ: one-pole split at `cutoffHz`, low and high bands scaled by their own gains. */
export function tiltEq(x: Float32Array, rateHz: number, cutoffHz: number, lowDb: number, highDb: number): Float32Array {
  const a = Math.exp((-2 * Math.PI * cutoffHz) / rateHz);
  const gl = 10 ** (lowDb / 20);
  const gh = 10 ** (highDb / 20);
  const y = new Float32Array(x.length);
  let lp = 0;
  for (let i = 0; i < x.length; i++) {
    lp = (1 - a) * x[i]! + a * lp;
    y[i] = gl * lp + gh * (x[i]! - lp);
  }
  return y;
}

export function rms(x: Float32Array, mask?: Uint8Array, rateHz = 16000): number {
  const per = Math.round(FRAME_SECONDS * rateHz);
  let e = 0;
  let n = 0;
  for (let i = 0; i < x.length; i++) {
    if (mask && !mask[Math.floor(i / per)]) continue;
    e += x[i]! * x[i]!;
    n++;
  }
  return Math.sqrt(e / Math.max(1, n));
}

/** `length` samples of background from a random file and offset (looped when shorter). */
export function backgroundSegment(background: readonly Float32Array[], length: number, rng: Rng): Float32Array {
  const out = new Float32Array(length);
  if (background.length === 0) return out;
  const b = background[rng.int(background.length)]!;
  let at = rng.int(Math.max(1, b.length));
  for (let i = 0; i < length; i++) {
    out[i] = b[at]!;
    at = at + 1 >= b.length ? 0 : at + 1;
  }
  return out;
}

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.next();
}

/** Reversed, or played far too fast or slow, or cut into 0.1-0.2 s pieces and shuffled. */
function destroy(sound: Float32Array, rng: Rng, rateHz: number): { s: Float32Array; speed: number; reversed: boolean } {
  const k = rng.int(3);
  if (k === 0) return { s: Float32Array.from(sound).reverse(), speed: 1, reversed: true };
  if (k === 1) {
    const speed = rng.next() < 0.5 ? uniform(rng, 0.65, 0.8) : uniform(rng, 1.25, 1.5);
    return { s: changeSpeed(sound, speed), speed, reversed: false };
  }
  const piece = Math.round(uniform(rng, 0.1, 0.2) * rateHz);
  const pieces: Float32Array[] = [];
  for (let i = 0; i < sound.length; i += piece) pieces.push(sound.subarray(i, Math.min(sound.length, i + piece)));
  rng.shuffle(pieces);
  const s = new Float32Array(sound.length);
  let at = 0;
  for (const p of pieces) {
    s.set(p, at);
    at += p.length;
  }
  return { s, speed: 1, reversed: false };
}

/**
 * `positive`: the example as recorded plus `variants - 1` augmented copies. `negative`:
 * hard negatives made from the example (reversed, >20% off speed, shuffled pieces):
 * the same timbre in a pattern that is not the sound, so the head learns the pattern,
 * not just "a chime-like sound that is not the background".
 */
export function augment(recording: Float32Array, background: readonly Float32Array[], rng: Rng, o: AugmentOptions, kind: 'positive' | 'negative' = 'positive'): Variant[] {
  const { sound, mask } = trimToSound(recording, o.rateHz);
  const per = Math.round(FRAME_SECONDS * o.rateHz);
  const out: Variant[] = kind === 'positive' ? [{ samples: recording, mask: activeFrames(recording, o.rateHz) }] : [];
  for (let v = kind === 'positive' ? 1 : 0; v < o.variants; v++) {
    let speed = 1 + uniform(rng, -o.maxSpeedChange, o.maxSpeedChange);
    let s: Float32Array;
    let soundMask = mask;
    if (kind === 'negative') {
      const d = destroy(sound, rng, o.rateHz);
      s = d.s;
      speed = d.speed;
      if (d.reversed) soundMask = Uint8Array.from(mask).reverse();
    } else s = changeSpeed(sound, speed);
    s = tiltEq(s, o.rateHz, uniform(rng, 400, 3000), uniform(rng, -o.maxEqDb, o.maxEqDb), uniform(rng, -o.maxEqDb, o.maxEqDb));
    const sMask = changeSpeedMask(soundMask, speed, Math.ceil(s.length / per));
    // Sound level -35..-6 dBFS (active RMS); the background level follows from the SNR.
    const level = 10 ** (uniform(rng, -35, -6) / 20);
    const g = level / Math.max(1e-9, rms(s, sMask, o.rateHz));
    // Time shift: 0.1..1.0 s of context before, 0.5..1.5 s after (whole frames).
    const pre = Math.round(uniform(rng, 0.1, 1.0) / FRAME_SECONDS) * per;
    const post = Math.round(uniform(rng, 0.5, 1.5) / FRAME_SECONDS) * per;
    const total = pre + s.length + post;
    const snr = o.snrDb[rng.int(o.snrDb.length)]!;
    const bg = Number.isFinite(snr) ? backgroundSegment(background, total, rng) : new Float32Array(total);
    const bgScale = Number.isFinite(snr) ? level / 10 ** (snr / 20) / Math.max(1e-9, rms(bg)) : 0;
    const samples = new Float32Array(total);
    for (let i = 0; i < total; i++) samples[i] = bg[i]! * bgScale;
    for (let i = 0; i < s.length; i++) samples[pre + i] = Math.max(-1, Math.min(1, samples[pre + i]! + g * s[i]!));
    const placed = new Uint8Array(Math.ceil(total / per));
    placed.set(sMask.subarray(0, placed.length - pre / per), pre / per);
    out.push({ samples, mask: placed });
  }
  return out;
}

function changeSpeedMask(mask: Uint8Array, factor: number, frames: number): Uint8Array {
  const out = new Uint8Array(frames);
  for (let i = 0; i < frames; i++) out[i] = mask[Math.min(mask.length - 1, Math.floor(i * factor))]!;
  return out;
}
