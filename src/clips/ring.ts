/**
 * The last `capacity` samples of one source at its own rate, indexed by absolute
 * stream sample. A gap in the stream (restart, or a rate change) clears it, so a
 * read never mixes audio from both sides of the gap.
 */
export class SampleRing {
  private buf: Float32Array;
  /** Absolute sample index one past the newest sample. */
  private end = 0;
  private size = 0;
  private rate = 0;

  constructor(private readonly seconds: number) {
    this.buf = new Float32Array(0);
  }

  get sampleRateHz(): number {
    return this.rate;
  }
  /** Bytes held (for /metrics). */
  get bytes(): number {
    return this.buf.byteLength;
  }
  /** Absolute index of the oldest sample held. */
  get startSample(): number {
    return this.end - this.size;
  }
  get endSample(): number {
    return this.end;
  }

  /** Appends `samples` that start at absolute sample `start`. */
  push(samples: Float32Array, start: number, rateHz: number): void {
    if (rateHz !== this.rate) {
      this.rate = rateHz;
      this.buf = new Float32Array(Math.max(1, Math.ceil(this.seconds * rateHz)));
      this.size = 0;
    }
    if (start !== this.end) this.size = 0;
    const cap = this.buf.length;
    const src = samples.length > cap ? samples.subarray(samples.length - cap) : samples;
    let pos = (start + samples.length - src.length) % cap;
    let off = 0;
    while (off < src.length) {
      const n = Math.min(src.length - off, cap - pos);
      this.buf.set(src.subarray(off, off + n), pos);
      off += n;
      pos = (pos + n) % cap;
    }
    this.end = start + samples.length;
    this.size = Math.min(cap, this.size + samples.length);
  }

  /** A copy of absolute samples [from, to), clamped to what is held. */
  read(from: number, to: number): { start: number; samples: Float32Array } {
    const a = Math.max(from, this.startSample);
    const b = Math.min(to, this.end);
    if (b <= a) return { start: a, samples: new Float32Array(0) };
    const out = new Float32Array(b - a);
    const cap = this.buf.length;
    let pos = a % cap;
    let off = 0;
    while (off < out.length) {
      const n = Math.min(out.length - off, cap - pos);
      out.set(this.buf.subarray(pos, pos + n), off);
      off += n;
      pos = (pos + n) % cap;
    }
    return { start: a, samples: out };
  }
}
