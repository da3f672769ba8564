import { dequantize } from '../classify/dequantize.js';

export { dequantize };

/** Gathers rows `idx` of x uint8 [N, rowLen] (dequantized) and y uint8 [N, classes] (as 0/1 floats). */
export function gatherBatch(x: Uint8Array, y: Uint8Array, rowLen: number, classes: number, idx: Int32Array): { x: Float32Array; y: Float32Array } {
  const bx = new Float32Array(idx.length * rowLen);
  const by = new Float32Array(idx.length * classes);
  idx.forEach((r, i) => {
    dequantize(x.subarray(r * rowLen, (r + 1) * rowLen), bx.subarray(i * rowLen, (i + 1) * rowLen));
    for (let k = 0; k < classes; k++) by[i * classes + k] = y[r * classes + k]!;
  });
  return { x: bx, y: by };
}
