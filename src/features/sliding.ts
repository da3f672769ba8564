/**
 * A growable window over an unbounded stream: it holds the elements with absolute
 * indices [base, end), each `width` values wide. Dropping what no later step needs
 * keeps it small; it grows (doubling) only when the window itself outgrows it.
 * `data` (elements base.. from offset 0) is valid until the next reserve/append.
 */
export class SlidingBuffer<T extends Float32Array | Float64Array> {
  private buf: T;
  /** Absolute index of the first element held. */
  base = 0;
  /** Elements held. */
  length = 0;

  constructor(
    private readonly make: (values: number) => T,
    initialElements: number,
    readonly width = 1,
  ) {
    this.buf = make(Math.max(1, initialElements) * width);
  }

  get end(): number {
    return this.base + this.length;
  }

  get data(): T {
    return this.buf;
  }

  /** Forgets the elements before absolute index `from`. */
  dropBefore(from: number): void {
    const drop = Math.min(this.length, Math.max(0, from - this.base));
    if (drop === 0) return;
    this.buf.copyWithin(0, drop * this.width, this.length * this.width);
    this.base += drop;
    this.length -= drop;
  }

  /** Room for `n` more elements after `end`; returns the backing array to write them at `length * width`. */
  reserve(n: number): T {
    const need = (this.length + n) * this.width;
    if (need > this.buf.length) {
      const grown = this.make(Math.max(this.buf.length * 2, need));
      grown.set(this.buf.subarray(0, this.length * this.width));
      this.buf = grown;
    }
    return this.buf;
  }

  /** Counts `n` elements written after a reserve. */
  commit(n: number): void {
    this.length += n;
  }

  append(values: ArrayLike<number>): void {
    this.reserve(values.length / this.width).set(values, this.length * this.width);
    this.commit(values.length / this.width);
  }
}
