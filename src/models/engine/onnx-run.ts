import { EarshotError } from '../../errors.js';
import type { EmbeddingEngine, ModelGraph } from '../contracts.js';
import { size } from '../graph/shapes.js';
import { checkRunInput } from './run-input.js';

type Ort = typeof import('onnxruntime-node');
type Session = import('onnxruntime-node').InferenceSession;

/** One ORT session and the per-example shapes of the outputs its graph names. */
export interface OnnxPart {
  readonly graph: ModelGraph;
  readonly session: Session;
  readonly shapes: Readonly<Record<string, readonly number[]>>;
  /** Values in the graph's largest per-example tensor: what one more example adds to a call's activations. */
  readonly largestTensorValues: number;
}

/** A whole graph in one session, or a trunk and head (split.ts) joined by the trunk's `link` output. */
export type OnnxParts = { readonly whole: OnnxPart } | { readonly trunk: OnnxPart; readonly head: OnnxPart; readonly link: string };

/**
 * A split graph's trunk runs as many examples per call as keep its largest tensor within
 * this many bytes: trunk activations grow with the batch, its speed does not (BENCHMARKS.md, VGGish).
 */
export const TRUNK_CALL_BYTES = 6 * 1024 * 1024;

export function trunkBatch(trunk: OnnxPart): number {
  return Math.max(1, Math.floor(TRUNK_CALL_BYTES / (4 * trunk.largestTensorValues)));
}

/** Runs `count` examples through one part; `use` sees each output while ORT still owns it (copy what you keep). */
async function runPart(ort: Ort, part: OnnxPart, input: Float32Array, count: number, use: (name: string, data: Float32Array) => void): Promise<void> {
  const x = new ort.Tensor('float32', input, [count, ...part.graph.inputShape]);
  try {
    const results = await part.session.run({ input: x });
    try {
      for (const name of part.graph.outputs) {
        const data = results[name]!.data as Float32Array;
        const want = count * size(part.shapes[name]!);
        if (data.length !== want) throw new EarshotError('INTERNAL', `onnx output ${name} has ${data.length} values, expected ${want}`);
        use(name, data);
      }
    } finally {
      for (const t of Object.values(results)) t.dispose();
    }
  } finally {
    x.dispose();
  }
}

async function runSplit(ort: Ort, p: Extract<OnnxParts, { trunk: OnnxPart }>, input: Float32Array, count: number): Promise<Record<string, Float32Array>> {
  const inSize = size(p.trunk.graph.inputShape);
  const out: Record<string, Float32Array> = {};
  for (const name of p.trunk.graph.outputs) out[name] = new Float32Array(count * size(p.trunk.shapes[name]!));
  const batch = trunkBatch(p.trunk);
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    await runPart(ort, p.trunk, input.subarray(start * inSize, (start + n) * inSize), n, (name, data) => out[name]!.set(data, start * size(p.trunk.shapes[name]!)));
  }
  await runPart(ort, p.head, out[p.link]!, count, (name, data) => (out[name] = data.slice()));
  return out;
}

/** The EmbeddingEngine over compiled parts; it releases their sessions on dispose. */
export function onnxEngine(ort: Ort, graph: ModelGraph, parts: OnnxParts): EmbeddingEngine {
  const sessions = 'whole' in parts ? [parts.whole.session] : [parts.trunk.session, parts.head.session];
  let disposed = false;
  return {
    kind: 'onnx',
    backend: 'cpu',
    graph,
    async run(input, count) {
      const empty = checkRunInput('onnx', disposed, graph, input, count);
      if (empty) return empty;
      let all: Record<string, Float32Array>;
      if ('whole' in parts) {
        all = {};
        await runPart(ort, parts.whole, input, count, (name, data) => (all[name] = data.slice()));
      } else all = await runSplit(ort, parts, input, count);
      return Object.fromEntries(graph.outputs.map((o) => [o, all[o]!]));
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      await Promise.all(sessions.map((s) => s.release()));
    },
  };
}
