import type { Activation, Layer, ModelGraph, Weights } from '../contracts.js';
import { inferShapes, type LayerInfo,outputShapes } from '../graph/shapes.js';
import { ATTR_FLOAT, ATTR_INT, ATTR_INTS, ONNX_FLOAT, type OnnxAttribute, type OnnxModel, type OnnxNode, type OnnxValueInfo } from './onnx-proto.js';

/**
 * Compiles a ModelGraph to an ONNX graph in NCHW (ORT's CPU conv kernels are
 * NCHW-native and its NCHWc transformer only applies to NCHW convs). The NHWC
 * input is transposed once; tensors are transposed back to NHWC before flatten
 * and for rank-4 outputs, so dense weights stay in their TF [in, out] layout
 * (large ones cut into column blocks, see DENSE_BLOCK_BYTES).
 */
export const ONNX_OPSET = 17;
/** Part of every compiled-cache key: bump it whenever the compiled output changes, so old entries go stale. */
export const ONNX_CONVERTER_VERSION = 'earshot-onnx-3';

/**
 * Dense weights larger than this are split into column blocks (one Gemm each, then Concat):
 * ORT prepacks each Gemm's weights while the original is still resident, so the load peak
 * grows with the largest single block (BENCHMARKS.md, VGGish). Same arithmetic, same speed.
 */
export const DENSE_BLOCK_BYTES = 32 * 1024 * 1024;

export interface CompileOptions {
  readonly denseBlockBytes?: number;
}

/** One initializer's payload, written into the external data file. */
export interface ExternalTensor {
  readonly name: string;
  readonly dims: readonly number[];
  /**
   * Makes the float32 values in ONNX layout. Called when the tensor is written, so the
   * writer holds one transposed or column-block copy at a time, not all of them at once.
   */
  readonly data: () => Float32Array;
}

export function tensorBytes(t: ExternalTensor): number {
  return 4 * t.dims.reduce((a, b) => a * b, 1);
}

export interface CompiledOnnx {
  /** Model with initializers left out; `withExternalData` adds them. */
  readonly model: OnnxModel;
  readonly tensors: readonly ExternalTensor[];
  readonly inputName: string;
}

function attrInts(name: string, ints: readonly number[]): OnnxAttribute {
  return { name, type: ATTR_INTS, ints: [...ints] };
}

/** HWIO -> OIHW. */
export function hwioToOihw(w: Float32Array, shape: readonly number[]): Float32Array {
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = w[((y * kw + x) * ci + i) * co + o]!;
  return out;
}

/** Depthwise HWCM -> [C*M, 1, H, W] for a grouped Conv (group = C; output channel c*M+m). */
export function hwcmToGrouped(w: Float32Array, shape: readonly number[]): Float32Array {
  const [kh, kw, c, m] = shape as [number, number, number, number];
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let ci = 0; ci < c; ci++)
        for (let mi = 0; mi < m; mi++) out[((ci * m + mi) * kh + y) * kw + x] = w[((y * kw + x) * c + ci) * m + mi]!;
  return out;
}

function valueInfo(name: string, shape: readonly number[]): OnnxValueInfo {
  return { name, type: { tensorType: { elemType: ONNX_FLOAT, shape: { dim: [{ dimParam: 'batch' }, ...shape.map((d) => ({ dimValue: d }))] } } } };
}

class Builder {
  readonly nodes: OnnxNode[] = [];
  readonly tensors: ExternalTensor[] = [];
  private readonly seen = new Set<string>();
  private n = 0;

  node(opType: string, input: string[], attribute: OnnxAttribute[] = [], output?: string): string {
    const out = output ?? `t${this.n}_${opType}`;
    this.nodes.push({ input, output: [out], name: `n${this.n++}_${opType}`, opType, attribute });
    return out;
  }

  tensor(name: string, dims: readonly number[], data: () => Float32Array): string {
    if (!this.seen.has(name)) {
      this.seen.add(name);
      this.tensors.push({ name, dims, data });
    }
    return name;
  }

  activation(x: string, a: Activation): string {
    switch (a) {
      case 'none':
        return x;
      case 'relu':
        return this.node('Relu', [x]);
      case 'sigmoid':
        return this.node('Sigmoid', [x]);
      case 'relu6':
        return this.node('Clip', [x, this.tensor('const/zero', [], () => Float32Array.of(0)), this.tensor('const/six', [], () => Float32Array.of(6))]);
      case 'hardswish':
        return this.node('HardSwish', [x]);
    }
  }
}

/** Column block `[c0, c1)` of a row-major [rows, cols] matrix. */
export function columnBlock(w: Float32Array, rows: number, cols: number, c0: number, c1: number): Float32Array {
  const out = new Float32Array(rows * (c1 - c0));
  for (let r = 0; r < rows; r++) out.set(w.subarray(r * cols + c0, r * cols + c1), r * (c1 - c0));
  return out;
}

function denseNodes(b: Builder, x: string, l: Extract<Layer, { op: 'dense' }>, weights: Weights, blockBytes: number): string {
  const w = weights.get(l.weights)!;
  const [rows, cols] = w.shape as [number, number];
  const gemm = (inputs: string[]) => b.activation(b.node('Gemm', inputs, [{ name: 'alpha', type: ATTR_FLOAT, f: 1 }, { name: 'beta', type: ATTR_FLOAT, f: 1 }]), l.activation);
  const blocks = Math.min(cols, Math.max(1, Math.ceil(w.data.byteLength / blockBytes)));
  if (blocks === 1) return gemm([x, b.tensor(l.weights, w.shape, () => w.data), ...(l.bias !== undefined ? [b.tensor(l.bias, [cols], () => weights.get(l.bias!)!.data)] : [])]);
  const width = Math.ceil(cols / blocks);
  const outs: string[] = [];
  for (let c0 = 0; c0 < cols; c0 += width) {
    const c1 = Math.min(cols, c0 + width);
    const inputs = [x, b.tensor(`${l.weights}:cols${c0}-${c1}`, [rows, c1 - c0], () => columnBlock(w.data, rows, cols, c0, c1))];
    if (l.bias !== undefined) inputs.push(b.tensor(`${l.bias}:cols${c0}-${c1}`, [c1 - c0], () => weights.get(l.bias!)!.data.slice(c0, c1)));
    outs.push(gemm(inputs));
  }
  return b.node('Concat', outs, [{ name: 'axis', type: ATTR_INT, i: 1 }]);
}

function convNode(b: Builder, x: string, info: LayerInfo, l: Extract<Layer, { op: 'conv2d' | 'depthwiseConv2d' }>, weights: Weights): string {
  const w = weights.get(l.weights)!;
  const depthwise = l.op === 'depthwiseConv2d';
  const [kh, kw, ci, co] = w.shape as [number, number, number, number];
  const dims = depthwise ? [ci * co, 1, kh, kw] : [co, ci, kh, kw];
  const wName = b.tensor(`${l.weights}:${depthwise ? 'grouped' : 'oihw'}`, dims, () => (depthwise ? hwcmToGrouped(w.data, w.shape) : hwioToOihw(w.data, w.shape)));
  const inputs = [x, wName];
  if (l.bias !== undefined) inputs.push(b.tensor(l.bias, weights.get(l.bias)!.shape, () => weights.get(l.bias!)!.data));
  const conv = b.node('Conv', inputs, [attrInts('kernel_shape', [kh, kw]), attrInts('strides', l.strides), attrInts('pads', info.pads!), attrInts('dilations', [1, 1]), { name: 'group', type: ATTR_INT, i: depthwise ? ci : 1 }]);
  return b.activation(conv, l.activation);
}

/** Dense [rows, cols] -> 1x1 conv weights [cols, rows, 1, 1] (OIHW). */
function denseAsConv1x1(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

/**
 * Squeeze-excitation in NCHW without reshapes: the pooled [N,C,1,1] tensor goes through
 * the two dense layers as 1x1 convs, and Mul broadcasts the [N,C,1,1] scale over H and W.
 */
function squeezeExciteNodes(b: Builder, x: string, l: Extract<Layer, { op: 'squeezeExcite' }>, weights: Weights): string {
  const conv = (input: string, wName: string, bName: string): string => {
    const w = weights.get(wName)!;
    const [rows, cols] = w.shape as [number, number];
    const wt = b.tensor(`${wName}:conv1x1`, [cols, rows, 1, 1], () => denseAsConv1x1(w.data, rows, cols));
    return b.node('Conv', [input, wt, b.tensor(bName, [cols], () => weights.get(bName)!.data)], [attrInts('kernel_shape', [1, 1])]);
  };
  const pooled = b.node('GlobalAveragePool', [x]);
  const scale = b.activation(conv(b.activation(conv(pooled, l.squeeze, l.squeezeBias), 'relu'), l.excite, l.exciteBias), 'sigmoid');
  return b.node('Mul', [x, scale]);
}

export function compileOnnx(graph: ModelGraph, weights: Weights, opts: CompileOptions = {}): CompiledOnnx {
  const blockBytes = opts.denseBlockBytes ?? DENSE_BLOCK_BYTES;
  const infos = inferShapes(graph, weights);
  const b = new Builder();
  const inputName = 'input';
  let x = graph.inputShape.length === 3 ? b.node('Transpose', [inputName], [attrInts('perm', [0, 3, 1, 2])]) : inputName;
  let nchw = graph.inputShape.length === 3;
  const outputs: OnnxValueInfo[] = [];
  const shapes = outputShapes(graph, infos);
  const named = new Map<string, string>();
  for (const info of infos) {
    const l = info.layer;
    switch (l.op) {
      case 'squeezeExcite':
        x = squeezeExciteNodes(b, x, l, weights);
        break;
      case 'add':
        x = b.node('Add', [x, named.get(l.from)!]);
        break;
      case 'conv2d':
      case 'depthwiseConv2d':
        x = convNode(b, x, info, l, weights);
        break;
      case 'maxPool':
        x = b.node('MaxPool', [x], [attrInts('kernel_shape', l.size), attrInts('strides', l.strides), attrInts('pads', info.pads!)]);
        break;
      case 'globalAvgPool':
        x = b.node('Flatten', [b.node('GlobalAveragePool', [x])], [{ name: 'axis', type: ATTR_INT, i: 1 }]);
        nchw = false;
        break;
      case 'flatten':
        if (nchw) x = b.node('Flatten', [b.node('Transpose', [x], [attrInts('perm', [0, 2, 3, 1])])], [{ name: 'axis', type: ATTR_INT, i: 1 }]);
        nchw = false;
        break;
      case 'dense':
        x = denseNodes(b, x, l, weights, blockBytes);
        break;
    }
    if (l.output !== undefined) named.set(l.output, x);
    if (l.output !== undefined && graph.outputs.includes(l.output)) {
      if (nchw) b.node('Transpose', [x], [attrInts('perm', [0, 2, 3, 1])], l.output);
      else b.node('Identity', [x], [], l.output);
    }
  }
  for (const name of graph.outputs) outputs.push(valueInfo(name, shapes[name]!));
  const model: OnnxModel = {
    irVersion: 8,
    producerName: 'earshot',
    producerVersion: ONNX_CONVERTER_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph: { name: 'earshot', node: b.nodes, initializer: [], input: [valueInfo(inputName, graph.inputShape)], output: outputs },
  };
  return { model, tensors: b.tensors, inputName };
}

export const EXTERNAL_ALIGN = 4096;

/** Lays tensors out at page-aligned offsets (so ORT can map each one) and returns the model referencing them. */
export function withExternalData(c: CompiledOnnx, dataFile: string): { model: OnnxModel; offsets: number[]; totalBytes: number } {
  let off = 0;
  const offsets: number[] = [];
  const initializer = c.tensors.map((t) => {
    offsets.push(off);
    const len = tensorBytes(t);
    const entry = {
      name: t.name,
      dims: [...t.dims],
      dataType: ONNX_FLOAT,
      dataLocation: 1,
      externalData: [
        { key: 'location', value: dataFile },
        { key: 'offset', value: String(off) },
        { key: 'length', value: String(len) },
      ],
    };
    off = Math.ceil((off + len) / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
    return entry;
  });
  return { model: { ...c.model, graph: { ...c.model.graph, initializer } }, offsets, totalBytes: off };
}
