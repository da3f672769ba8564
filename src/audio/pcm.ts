/** Pure PCM helpers shared by every source. */

/** VGGish reads int16 and divides by 32768.0 (not 32767), so full scale is [-1, 1). */
export const INT16_SCALE = 1 / 32768;

/**
 * Stateful s16le -> float32 converter for byte streams. Pipes split reads at
 * arbitrary byte boundaries, so an odd trailing byte is carried into the next
 * call instead of being dropped or misaligning every later sample.
 */
export interface S16leDecoder {
  /** Converts all whole samples available so far; may return an empty array. */
  push(bytes: Uint8Array): Float32Array;
  /** Bytes held back waiting for the rest of a sample (0 or 1). */
  readonly pendingBytes: number;
}

export function createS16leDecoder(): S16leDecoder {
  let carry: number | null = null;
  return {
    push(bytes: Uint8Array): Float32Array {
      const total = bytes.length + (carry === null ? 0 : 1);
      const n = total >> 1;
      const out = new Float32Array(n);
      let src = 0;
      let dst = 0;
      if (carry !== null && n > 0) {
        const v = carry | (bytes[0]! << 8);
        out[dst++] = ((v << 16) >> 16) * INT16_SCALE;
        src = 1;
        carry = null;
      }
      for (; dst < n; dst++, src += 2) {
        const v = bytes[src]! | (bytes[src + 1]! << 8);
        out[dst] = ((v << 16) >> 16) * INT16_SCALE;
      }
      if (src < bytes.length) carry = bytes[src]!;
      return out;
    },
    get pendingBytes() {
      return carry === null ? 0 : 1;
    },
  };
}

/**
 * Mono mix by plain mean (VGGish: np.mean(x, axis=1) after scaling). Accumulates in
 * float64 and rounds once so the result equals numpy's float64 mean cast to float32.
 * A NaN or ±Inf sample (only float files can hold one) becomes 0: one would turn every
 * log-mel frame it touches, and so every score, into NaN.
 */
export function averageInterleaved(interleaved: ArrayLike<number>, channels: number, scale = 1, offset = 0): Float32Array {
  const frames = Math.floor(interleaved.length / channels);
  const out = new Float32Array(frames);
  if (channels === 1) {
    for (let i = 0; i < frames; i++) {
      const v = (interleaved[i]! - offset) * scale;
      out[i] = Number.isFinite(v) ? v : 0;
    }
    return out;
  }
  for (let f = 0, k = 0; f < frames; f++) {
    let s = 0;
    for (let c = 0; c < channels; c++, k++) {
      const v = (interleaved[k]! - offset) * scale;
      if (Number.isFinite(v)) s += v;
    }
    out[f] = s / channels;
  }
  return out;
}

/** How many values are NaN or ±Inf (what the mixes below zero). */
export function countNonFinite(x: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) n++;
  return n;
}

/** NaN/±Inf -> 0 in place (see averageInterleaved). */
function zeroNonFinite(x: Float32Array): Float32Array {
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i]!)) x[i] = 0;
  return x;
}

/** Mean of planar channels (decoders such as audio-decode return one array per channel). */
export function averagePlanar(channels: readonly Float32Array[]): Float32Array {
  if (channels.length === 1) return zeroNonFinite(channels[0]!);
  const frames = Math.min(...channels.map((c) => c.length));
  const out = new Float32Array(frames);
  for (let f = 0; f < frames; f++) {
    let s = 0;
    for (const ch of channels) if (Number.isFinite(ch[f]!)) s += ch[f]!;
    out[f] = s / channels.length;
  }
  return out;
}
