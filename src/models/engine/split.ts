import type { ModelGraph } from '../contracts.js';
import type { Shape } from '../graph/shapes.js';

/**
 * A graph cut before its first dense layer: a convolutional trunk and a dense head.
 *
 * The ONNX engine runs the trunk in micro-batches (its activations grow with the batch,
 * its speed does not) and the head on the whole batch (its cost is streaming its dense
 * weights once per call). Figures: BENCHMARKS.md, VGGish.
 */
export interface TrunkSplit {
  readonly trunk: ModelGraph;
  /** Trunk output that feeds the head (the last trunk layer's output). */
  readonly link: string;
  /** The head as a graph of its own, given the link's per-example shape. */
  head(linkShape: Shape): ModelGraph;
}

/** Name given to the link when the last trunk layer has no output name of its own. */
export const TRUNK_LINK = 'earshot:trunk';

/**
 * Undefined when there is nothing to gain: a flat input, no dense layer, a dense
 * first layer, or no requested output after the cut.
 */
export function splitTrunk(graph: ModelGraph): TrunkSplit | undefined {
  if (graph.inputShape.length !== 3) return undefined;
  const k = graph.layers.findIndex((l) => l.op === 'dense');
  if (k <= 0) return undefined;
  const last = graph.layers[k - 1]!;
  const link = last.output ?? TRUNK_LINK;
  const trunkLayers = graph.layers.slice(0, k).map((l, i) => (i === k - 1 && l.output === undefined ? { ...l, output: link } : l));
  const inTrunk = new Set(trunkLayers.flatMap((l) => (l.output === undefined ? [] : [l.output])));
  const headOutputs = graph.outputs.filter((o) => !inTrunk.has(o));
  if (headOutputs.length === 0) return undefined;
  const trunk: ModelGraph = { inputShape: graph.inputShape, layers: trunkLayers, outputs: [...new Set([...graph.outputs.filter((o) => inTrunk.has(o)), link])] };
  const headLayers = graph.layers.slice(k);
  return { trunk, link, head: (linkShape) => ({ inputShape: [...linkShape], layers: headLayers, outputs: headOutputs }) };
}
