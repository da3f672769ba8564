/**
 * The one place quantized AudioSet embeddings become classifier input: the seed's
 * uint8_to_float32, (q - 128) / 128, as the AudioSet classifiers are trained (Kong et al.).
 * Padding rows (uint8 0) therefore become -1.0, exactly as in Kong's HDF5 pipeline.
 */
export function dequantize(q: ArrayLike<number>, out = new Float32Array(q.length)): Float32Array {
  for (let i = 0; i < q.length; i++) out[i] = (q[i]! - 128) / 128;
  return out;
}
