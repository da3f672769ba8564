/**
 * Unrolled radix-16 kernel for the complex DIF FFT in fft.ts (same butterflies, same
 * twiddle tables, same operation order as its radix4Pass; only memory traffic differs).
 * Written out by a generator pattern: 16 points per block held in locals. (Fusing the
 * first two passes the same way was measured slower: 32 live values spill.) Twiddle
 * tables hold W^j, W^2j, W^3j as re,im pairs, 6 values per j (see makePass in fft.ts).
 */

/** The last two passes (q = 4, then q = 1) on each 16-point block, held in locals: one memory sweep instead of two. */
export function tail16(re: Float64Array, im: Float64Array, m: number, tw: Float64Array): void {
  const w1r1 = tw[6]!, w1i1 = tw[7]!, w2r1 = tw[8]!, w2i1 = tw[9]!, w3r1 = tw[10]!, w3i1 = tw[11]!;
  const w1r2 = tw[12]!, w1i2 = tw[13]!, w2r2 = tw[14]!, w2i2 = tw[15]!, w3r2 = tw[16]!, w3i2 = tw[17]!;
  const w1r3 = tw[18]!, w1i3 = tw[19]!, w2r3 = tw[20]!, w2i3 = tw[21]!, w3r3 = tw[22]!, w3i3 = tw[23]!;
  for (let s = 0; s < m; s += 16) {
    const x0r = re[s + 0]!, x0i = im[s + 0]!;
    const x1r = re[s + 1]!, x1i = im[s + 1]!;
    const x2r = re[s + 2]!, x2i = im[s + 2]!;
    const x3r = re[s + 3]!, x3i = im[s + 3]!;
    const x4r = re[s + 4]!, x4i = im[s + 4]!;
    const x5r = re[s + 5]!, x5i = im[s + 5]!;
    const x6r = re[s + 6]!, x6i = im[s + 6]!;
    const x7r = re[s + 7]!, x7i = im[s + 7]!;
    const x8r = re[s + 8]!, x8i = im[s + 8]!;
    const x9r = re[s + 9]!, x9i = im[s + 9]!;
    const x10r = re[s + 10]!, x10i = im[s + 10]!;
    const x11r = re[s + 11]!, x11i = im[s + 11]!;
    const x12r = re[s + 12]!, x12i = im[s + 12]!;
    const x13r = re[s + 13]!, x13i = im[s + 13]!;
    const x14r = re[s + 14]!, x14i = im[s + 14]!;
    const x15r = re[s + 15]!, x15i = im[s + 15]!;
    const b0r0 = x0r + x8r, b0i0 = x0i + x8i, b1r0 = x4r + x12r, b1i0 = x4i + x12i;
    const dr0 = x0r - x8r, di0 = x0i - x8i, er0 = x4r - x12r, ei0 = x4i - x12i;
    const y0r = b0r0 + b1r0, y0i = b0i0 + b1i0;
    const c1r0 = b0r0 - b1r0, c1i0 = b0i0 - b1i0;
    const t1r0 = dr0 + ei0, t1i0 = di0 - er0, t2r0 = dr0 - ei0, t2i0 = di0 + er0;
    const y4r = c1r0, y4i = c1i0;
    const y8r = t1r0, y8i = t1i0;
    const y12r = t2r0, y12i = t2i0;
    const b0r1 = x1r + x9r, b0i1 = x1i + x9i, b1r1 = x5r + x13r, b1i1 = x5i + x13i;
    const dr1 = x1r - x9r, di1 = x1i - x9i, er1 = x5r - x13r, ei1 = x5i - x13i;
    const y1r = b0r1 + b1r1, y1i = b0i1 + b1i1;
    const c1r1 = b0r1 - b1r1, c1i1 = b0i1 - b1i1;
    const t1r1 = dr1 + ei1, t1i1 = di1 - er1, t2r1 = dr1 - ei1, t2i1 = di1 + er1;
    const y5r = c1r1 * w2r1 - c1i1 * w2i1, y5i = c1r1 * w2i1 + c1i1 * w2r1;
    const y9r = t1r1 * w1r1 - t1i1 * w1i1, y9i = t1r1 * w1i1 + t1i1 * w1r1;
    const y13r = t2r1 * w3r1 - t2i1 * w3i1, y13i = t2r1 * w3i1 + t2i1 * w3r1;
    const b0r2 = x2r + x10r, b0i2 = x2i + x10i, b1r2 = x6r + x14r, b1i2 = x6i + x14i;
    const dr2 = x2r - x10r, di2 = x2i - x10i, er2 = x6r - x14r, ei2 = x6i - x14i;
    const y2r = b0r2 + b1r2, y2i = b0i2 + b1i2;
    const c1r2 = b0r2 - b1r2, c1i2 = b0i2 - b1i2;
    const t1r2 = dr2 + ei2, t1i2 = di2 - er2, t2r2 = dr2 - ei2, t2i2 = di2 + er2;
    const y6r = c1r2 * w2r2 - c1i2 * w2i2, y6i = c1r2 * w2i2 + c1i2 * w2r2;
    const y10r = t1r2 * w1r2 - t1i2 * w1i2, y10i = t1r2 * w1i2 + t1i2 * w1r2;
    const y14r = t2r2 * w3r2 - t2i2 * w3i2, y14i = t2r2 * w3i2 + t2i2 * w3r2;
    const b0r3 = x3r + x11r, b0i3 = x3i + x11i, b1r3 = x7r + x15r, b1i3 = x7i + x15i;
    const dr3 = x3r - x11r, di3 = x3i - x11i, er3 = x7r - x15r, ei3 = x7i - x15i;
    const y3r = b0r3 + b1r3, y3i = b0i3 + b1i3;
    const c1r3 = b0r3 - b1r3, c1i3 = b0i3 - b1i3;
    const t1r3 = dr3 + ei3, t1i3 = di3 - er3, t2r3 = dr3 - ei3, t2i3 = di3 + er3;
    const y7r = c1r3 * w2r3 - c1i3 * w2i3, y7i = c1r3 * w2i3 + c1i3 * w2r3;
    const y11r = t1r3 * w1r3 - t1i3 * w1i3, y11i = t1r3 * w1i3 + t1i3 * w1r3;
    const y15r = t2r3 * w3r3 - t2i3 * w3i3, y15i = t2r3 * w3i3 + t2i3 * w3r3;
    {
      const b0r = y0r + y2r, b0i = y0i + y2i, b1r = y1r + y3r, b1i = y1i + y3i;
      const dr = y0r - y2r, di = y0i - y2i, er = y1r - y3r, ei = y1i - y3i;
      re[s + 0] = b0r + b1r;
      im[s + 0] = b0i + b1i;
      re[s + 1] = b0r - b1r;
      im[s + 1] = b0i - b1i;
      re[s + 2] = dr + ei;
      im[s + 2] = di - er;
      re[s + 3] = dr - ei;
      im[s + 3] = di + er;
    }
    {
      const b0r = y4r + y6r, b0i = y4i + y6i, b1r = y5r + y7r, b1i = y5i + y7i;
      const dr = y4r - y6r, di = y4i - y6i, er = y5r - y7r, ei = y5i - y7i;
      re[s + 4] = b0r + b1r;
      im[s + 4] = b0i + b1i;
      re[s + 5] = b0r - b1r;
      im[s + 5] = b0i - b1i;
      re[s + 6] = dr + ei;
      im[s + 6] = di - er;
      re[s + 7] = dr - ei;
      im[s + 7] = di + er;
    }
    {
      const b0r = y8r + y10r, b0i = y8i + y10i, b1r = y9r + y11r, b1i = y9i + y11i;
      const dr = y8r - y10r, di = y8i - y10i, er = y9r - y11r, ei = y9i - y11i;
      re[s + 8] = b0r + b1r;
      im[s + 8] = b0i + b1i;
      re[s + 9] = b0r - b1r;
      im[s + 9] = b0i - b1i;
      re[s + 10] = dr + ei;
      im[s + 10] = di - er;
      re[s + 11] = dr - ei;
      im[s + 11] = di + er;
    }
    {
      const b0r = y12r + y14r, b0i = y12i + y14i, b1r = y13r + y15r, b1i = y13i + y15i;
      const dr = y12r - y14r, di = y12i - y14i, er = y13r - y15r, ei = y13i - y15i;
      re[s + 12] = b0r + b1r;
      im[s + 12] = b0i + b1i;
      re[s + 13] = b0r - b1r;
      im[s + 13] = b0i - b1i;
      re[s + 14] = dr + ei;
      im[s + 14] = di - er;
      re[s + 15] = dr - ei;
      im[s + 15] = di + er;
    }
  }
}
