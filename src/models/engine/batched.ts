import type { EmbeddingEngine } from '../contracts.js';
import { size } from '../graph/shapes.js';

/**
 * Runs `count` examples through `engine` in calls of at most `batch` examples and
 * concatenates each output; the result is the same as one call with all of them.
 */
export async function runBatched(engine: EmbeddingEngine, input: Float32Array, count: number, batch: number): Promise<Record<string, Float32Array>> {
  const step = Math.max(1, Math.floor(batch));
  const inSize = size(engine.graph.inputShape);
  // One call also covers a mis-sized input: run() rejects it with the engine's own message.
  if (count <= step || input.length !== count * inSize) return engine.run(input, count);
  const out: Record<string, Float32Array> = {};
  for (let start = 0; start < count; start += step) {
    const n = Math.min(step, count - start);
    const r = await engine.run(input.subarray(start * inSize, (start + n) * inSize), n);
    for (const [name, data] of Object.entries(r)) {
      const per = data.length / n;
      (out[name] ??= new Float32Array(count * per)).set(data, start * per);
    }
  }
  return out;
}
