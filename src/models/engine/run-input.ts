import { EarshotError } from '../../errors.js';
import type { ModelGraph } from '../contracts.js';
import { size } from '../graph/shapes.js';

/**
 * The checks every engine's run() makes before touching its runtime: a disposed engine
 * and a mis-sized input are typed errors. For count 0 it returns the (empty) result.
 */
export function checkRunInput(kind: string, disposed: boolean, graph: ModelGraph, input: Float32Array, count: number): Record<string, Float32Array> | undefined {
  if (disposed) throw new EarshotError('ENGINE_UNAVAILABLE', `${kind} engine has been disposed`);
  const inSize = size(graph.inputShape);
  if (!Number.isInteger(count) || count < 0 || input.length !== count * inSize) {
    throw new EarshotError('INPUT_INVALID', `input has ${input.length} values, expected ${count} x ${inSize} ([${graph.inputShape.join(',')}])`);
  }
  return count === 0 ? Object.fromEntries(graph.outputs.map((o) => [o, new Float32Array(0)])) : undefined;
}
