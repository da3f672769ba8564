import { EarshotError } from '../../errors.js';
import type { Layer, ModelGraph, Padding, Weights } from '../contracts.js';

/**
 * Shape inference and validation shared by every engine and the reference, so
 * they all agree on padding arithmetic and reject the same bad graphs with the
 * same messages. Shapes are per example (no batch dim), NHWC for rank 3.
 */
export type Shape = readonly number[];

export interface LayerInfo {
  readonly index: number;
  readonly layer: Layer;
  readonly inputShape: Shape;
  readonly outputShape: Shape;
  /** Explicit TF-style padding for conv/pool layers: [top, left, bottom, right]. */
  readonly pads?: readonly [number, number, number, number];
  /** Kernel [kh, kw] for conv/pool layers. */
  readonly kernel?: readonly [number, number];
}

/** TF 'same'/'valid' output size and the padding TF applies (extra pad goes bottom/right). */
export function padAlong(inSize: number, k: number, s: number, padding: Padding): { out: number; before: number; after: number } {
  if (padding === 'valid') {
    const out = Math.floor((inSize - k) / s) + 1;
    return { out, before: 0, after: 0 };
  }
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + k - inSize, 0);
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}

function layerName(i: number, l: Layer): string {
  return `layer ${i} (${l.op}${l.output ? ` '${l.output}'` : ''})`;
}

function weight(weights: Weights, name: string, where: string): { shape: Shape; data: Float32Array } {
  const w = weights.get(name);
  if (!w) throw new EarshotError('MODEL_INVALID', `${where} needs weight tensor '${name}', which the model does not have`, { tensor: name });
  const n = w.shape.reduce((a, b) => a * b, 1);
  if (n !== w.data.length) throw new EarshotError('MODEL_SHAPE_MISMATCH', `tensor '${name}': shape [${w.shape.join(',')}] holds ${n} values, data has ${w.data.length}`, { tensor: name });
  return w;
}

function expectShape(name: string, actual: Shape, expected: Shape, where: string): void {
  if (actual.length !== expected.length || actual.some((d, i) => d !== expected[i])) {
    throw new EarshotError('MODEL_SHAPE_MISMATCH', `tensor '${name}' has shape [${actual.join(',')}], ${where} expects [${expected.join(',')}]`, { tensor: name, actual: [...actual], expected: [...expected] });
  }
}

function checkBias(weights: Weights, bias: string | undefined, channels: number, where: string): void {
  if (bias === undefined) return;
  expectShape(bias, weight(weights, bias, where).shape, [channels], where);
}

function checkPositive(pair: readonly number[], what: string, where: string): void {
  if (pair.length !== 2 || pair.some((v) => !Number.isInteger(v) || v < 1)) throw new EarshotError('MODEL_INVALID', `${where}: ${what} must be two positive integers, got [${pair.join(',')}]`);
}

/** Output size for explicit pads (PyTorch arithmetic: floor((in + before + after - k) / s) + 1). */
function explicitAlong(inSize: number, k: number, s: number, before: number, after: number): { out: number; before: number; after: number } {
  return { out: Math.floor((inSize + before + after - k) / s) + 1, before, after };
}

function spatial(inShape: Shape, k: readonly [number, number], s: readonly [number, number], padding: Padding, where: string, pads?: readonly number[]) {
  const [h, w] = inShape as [number, number, number];
  if (pads !== undefined && (pads.length !== 4 || pads.some((p) => !Number.isInteger(p) || p < 0))) {
    throw new EarshotError('MODEL_INVALID', `${where}: pads must be four non-negative integers [top,left,bottom,right], got [${pads.join(',')}]`);
  }
  const ph = pads ? explicitAlong(h, k[0], s[0], pads[0]!, pads[2]!) : padAlong(h, k[0], s[0], padding);
  const pw = pads ? explicitAlong(w, k[1], s[1], pads[1]!, pads[3]!) : padAlong(w, k[1], s[1], padding);
  if (ph.out < 1 || pw.out < 1) throw new EarshotError('MODEL_SHAPE_MISMATCH', `${where}: input ${h}x${w} is smaller than the ${k[0]}x${k[1]} window`, {});
  return { oh: ph.out, ow: pw.out, pads: [ph.before, pw.before, ph.after, pw.after] as const };
}

/** Validates `graph` against `weights` and returns every layer's input/output shape. */
export function inferShapes(graph: ModelGraph, weights: Weights): LayerInfo[] {
  if (graph.inputShape.length !== 3 && graph.inputShape.length !== 1) {
    throw new EarshotError('MODEL_INVALID', `graph input shape [${graph.inputShape.join(',')}] must be [H,W,C] or [features]`);
  }
  if (graph.inputShape.some((d) => !Number.isInteger(d) || d < 1)) throw new EarshotError('MODEL_INVALID', `graph input shape [${graph.inputShape.join(',')}] has a non-positive dimension`);
  const infos: LayerInfo[] = [];
  const names = new Set<string>();
  const shapesByName = new Map<string, Shape>();
  let shape: Shape = graph.inputShape;
  graph.layers.forEach((layer, index) => {
    const where = layerName(index, layer);
    const rank4 = ['conv2d', 'depthwiseConv2d', 'maxPool', 'globalAvgPool', 'squeezeExcite'];
    if (rank4.includes(layer.op) && shape.length !== 3) throw new EarshotError('MODEL_INVALID', `${where} needs an [H,W,C] input, got [${shape.join(',')}]`);
    let out: Shape;
    let extra: Pick<LayerInfo, 'pads' | 'kernel'> = {};
    switch (layer.op) {
      case 'conv2d': {
        checkPositive(layer.strides, 'strides', where);
        const w = weight(weights, layer.weights, where);
        if (w.shape.length !== 4 || w.shape[2] !== shape[2]) expectShape(layer.weights, w.shape, [w.shape[0] ?? 0, w.shape[1] ?? 0, shape[2]!, w.shape[3] ?? 0], `${where} (HWIO)`);
        const k = [w.shape[0]!, w.shape[1]!] as const;
        checkBias(weights, layer.bias, w.shape[3]!, where);
        const s = spatial(shape, k, layer.strides, layer.padding, where, layer.pads);
        out = [s.oh, s.ow, w.shape[3]!];
        extra = { pads: s.pads, kernel: k };
        break;
      }
      case 'depthwiseConv2d': {
        checkPositive(layer.strides, 'strides', where);
        const w = weight(weights, layer.weights, where);
        if (w.shape.length !== 4 || w.shape[2] !== shape[2]) expectShape(layer.weights, w.shape, [w.shape[0] ?? 0, w.shape[1] ?? 0, shape[2]!, w.shape[3] ?? 1], `${where} (HWC1)`);
        const k = [w.shape[0]!, w.shape[1]!] as const;
        const outC = shape[2]! * w.shape[3]!;
        checkBias(weights, layer.bias, outC, where);
        const s = spatial(shape, k, layer.strides, layer.padding, where, layer.pads);
        out = [s.oh, s.ow, outC];
        extra = { pads: s.pads, kernel: k };
        break;
      }
      case 'maxPool': {
        checkPositive(layer.size, 'size', where);
        checkPositive(layer.strides, 'strides', where);
        const s = spatial(shape, layer.size, layer.strides, layer.padding, where);
        out = [s.oh, s.ow, shape[2]!];
        extra = { pads: s.pads, kernel: [layer.size[0], layer.size[1]] };
        break;
      }
      case 'globalAvgPool':
        out = [shape[2]!];
        break;
      case 'flatten':
        out = [shape.reduce((a, b) => a * b, 1)];
        break;
      case 'squeezeExcite': {
        const c = shape[2]!;
        const sq = weight(weights, layer.squeeze, where);
        if (sq.shape.length !== 2 || sq.shape[0] !== c) expectShape(layer.squeeze, sq.shape, [c, sq.shape[1] ?? 0], `${where} ([C, S])`);
        const s = sq.shape[1]!;
        checkBias(weights, layer.squeezeBias, s, where);
        expectShape(layer.excite, weight(weights, layer.excite, where).shape, [s, c], `${where} ([S, C])`);
        checkBias(weights, layer.exciteBias, c, where);
        out = shape;
        break;
      }
      case 'add': {
        const from = shapesByName.get(layer.from);
        if (!from) throw new EarshotError('MODEL_INVALID', `${where} adds '${layer.from}', which no earlier layer outputs`);
        if (from.length !== shape.length || from.some((d, i) => d !== shape[i])) {
          throw new EarshotError('MODEL_SHAPE_MISMATCH', `${where}: '${layer.from}' has shape [${from.join(',')}], the running tensor [${shape.join(',')}]`);
        }
        out = shape;
        break;
      }
      case 'dense': {
        if (shape.length !== 1) throw new EarshotError('MODEL_INVALID', `${where} needs a flat input, got [${shape.join(',')}]: add a flatten layer`);
        const w = weight(weights, layer.weights, where);
        if (w.shape.length !== 2 || w.shape[0] !== shape[0]) expectShape(layer.weights, w.shape, [shape[0]!, w.shape[1] ?? w.shape[0] ?? 0], `${where} ([in, out])`);
        checkBias(weights, layer.bias, w.shape[1]!, where);
        out = [w.shape[1]!];
        break;
      }
      default: {
        const op: string = (layer as { op: string }).op;
        throw new EarshotError('MODEL_INVALID', `layer ${index}: unknown op '${op}'`);
      }
    }
    if (layer.output !== undefined) {
      if (names.has(layer.output)) throw new EarshotError('MODEL_INVALID', `${where}: output name '${layer.output}' is used twice`);
      names.add(layer.output);
      shapesByName.set(layer.output, out);
    }
    infos.push({ index, layer, inputShape: shape, outputShape: out, ...extra });
    shape = out;
  });
  if (graph.outputs.length === 0) throw new EarshotError('MODEL_INVALID', 'graph has no outputs');
  for (const o of graph.outputs) if (!names.has(o)) throw new EarshotError('MODEL_INVALID', `graph output '${o}' is not the output of any layer`);
  return infos;
}

/** Names of the weight tensors a layer reads. */
export function layerWeightNames(l: Layer): string[] {
  switch (l.op) {
    case 'conv2d':
    case 'depthwiseConv2d':
    case 'dense':
      return l.bias === undefined ? [l.weights] : [l.weights, l.bias];
    case 'squeezeExcite':
      return [l.squeeze, l.squeezeBias, l.excite, l.exciteBias];
    default:
      return [];
  }
}

/** Output shapes (per example) keyed by output name. */
export function outputShapes(graph: ModelGraph, infos: readonly LayerInfo[]): Record<string, Shape> {
  const r: Record<string, Shape> = {};
  for (const i of infos) if (i.layer.output !== undefined && graph.outputs.includes(i.layer.output)) r[i.layer.output] = i.outputShape;
  return r;
}

export function size(shape: Shape): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Multiply-accumulates per example (conv/dense only; pools and activations are not counted). */
export function graphMacs(infos: readonly LayerInfo[], weights: Weights): number {
  let macs = 0;
  for (const i of infos) {
    const l = i.layer;
    if (l.op === 'conv2d' || l.op === 'depthwiseConv2d') {
      const w = weights.get(l.weights)!.shape;
      const [oh, ow, oc] = i.outputShape as [number, number, number];
      const perOut = l.op === 'conv2d' ? w[0]! * w[1]! * w[2]! : w[0]! * w[1]!;
      macs += oh * ow * oc * perOut;
    } else if (l.op === 'dense') {
      const w = weights.get(l.weights)!.shape;
      macs += w[0]! * w[1]!;
    } else if (l.op === 'squeezeExcite') {
      const w = weights.get(l.squeeze)!.shape;
      macs += 2 * w[0]! * w[1]!;
    }
  }
  return macs;
}
