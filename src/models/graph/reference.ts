import { EarshotError } from '../../errors.js';
import type { Activation, ModelGraph, Weights } from '../contracts.js';
import { inferShapes, type LayerInfo,size } from './shapes.js';

/**
 * Plain-loop reference implementation of the ModelGraph IR: the executable spec
 * every engine is tested against. Slow on purpose (no tiling, no tricks);
 * accumulates in float64 and stores float32 after each layer, as engines do.
 * Layouts: activations NHWC, conv weights HWIO, depthwise HWCM, dense [in, out].
 * 'same' padding follows TF (extra row/column at the bottom/right); padded
 * positions are zero for convs and ignored (-inf) for max-pool.
 */
export function activate(x: number, a: Activation): number {
  switch (a) {
    case 'none':
      return x;
    case 'relu':
      return x > 0 ? x : 0;
    case 'relu6':
      return Math.min(Math.max(x, 0), 6);
    case 'sigmoid':
      return 1 / (1 + Math.exp(-x));
    case 'hardswish':
      return (x * Math.min(Math.max(x + 3, 0), 6)) / 6;
  }
}

function conv(info: LayerInfo, x: Float32Array, w: Float32Array, wShape: readonly number[], bias: Float32Array | undefined, depthwise: boolean, act: Activation): Float32Array {
  const [h, wd, c] = info.inputShape as [number, number, number];
  const [oh, ow, oc] = info.outputShape as [number, number, number];
  const [kh, kw] = info.kernel!;
  const [pt, pl] = info.pads!;
  const layer = info.layer as { strides: [number, number] };
  const [sh, sw] = layer.strides;
  const mult = depthwise ? wShape[3]! : 0;
  const out = new Float32Array(oh * ow * oc);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      for (let o = 0; o < oc; o++) {
        let acc = bias ? bias[o]! : 0;
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * sh + ky - pt;
          if (iy < 0 || iy >= h) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * sw + kx - pl;
            if (ix < 0 || ix >= wd) continue;
            if (depthwise) {
              const ci = Math.floor(o / mult);
              const m = o % mult;
              acc += x[(iy * wd + ix) * c + ci]! * w[((ky * kw + kx) * c + ci) * mult + m]!;
            } else {
              for (let ci = 0; ci < c; ci++) acc += x[(iy * wd + ix) * c + ci]! * w[((ky * kw + kx) * c + ci) * oc + o]!;
            }
          }
        }
        out[(oy * ow + ox) * oc + o] = activate(acc, act);
      }
    }
  }
  return out;
}

function maxPool(info: LayerInfo, x: Float32Array): Float32Array {
  const [h, wd, c] = info.inputShape as [number, number, number];
  const [oh, ow] = info.outputShape as [number, number, number];
  const [kh, kw] = info.kernel!;
  const [pt, pl] = info.pads!;
  const [sh, sw] = (info.layer as { strides: [number, number] }).strides;
  const out = new Float32Array(oh * ow * c);
  for (let oy = 0; oy < oh; oy++)
    for (let ox = 0; ox < ow; ox++)
      for (let ci = 0; ci < c; ci++) {
        let m = -Infinity;
        for (let ky = 0; ky < kh; ky++)
          for (let kx = 0; kx < kw; kx++) {
            const iy = oy * sh + ky - pt;
            const ix = ox * sw + kx - pl;
            if (iy >= 0 && iy < h && ix >= 0 && ix < wd) m = Math.max(m, x[(iy * wd + ix) * c + ci]!);
          }
        out[(oy * ow + ox) * c + ci] = m;
      }
  return out;
}

function globalAvgPool(info: LayerInfo, x: Float32Array): Float32Array {
  const [h, wd, c] = info.inputShape as [number, number, number];
  const out = new Float32Array(c);
  for (let ci = 0; ci < c; ci++) {
    let s = 0;
    for (let p = 0; p < h * wd; p++) s += x[p * c + ci]!;
    out[ci] = s / (h * wd);
  }
  return out;
}

function dense(x: Float32Array, w: Float32Array, inN: number, outN: number, bias: Float32Array | undefined, act: Activation): Float32Array {
  const out = new Float32Array(outN);
  for (let o = 0; o < outN; o++) {
    let acc = bias ? bias[o]! : 0;
    for (let i = 0; i < inN; i++) acc += x[i]! * w[i * outN + o]!;
    out[o] = activate(acc, act);
  }
  return out;
}

function squeezeExcite(info: LayerInfo, x: Float32Array, w1: Float32Array, b1: Float32Array, w2: Float32Array, b2: Float32Array): Float32Array {
  const [h, wd, c] = info.inputShape as [number, number, number];
  const mean = globalAvgPool(info, x);
  const s = b1.length;
  const scale = dense(dense(mean, w1, c, s, b1, 'relu'), w2, s, c, b2, 'sigmoid');
  const out = new Float32Array(x.length);
  for (let p = 0; p < h * wd; p++) for (let ci = 0; ci < c; ci++) out[p * c + ci] = x[p * c + ci]! * scale[ci]!;
  return out;
}

/** Runs `graph` on `count` examples; returns one Float32Array [count, ...shape] per graph output. */
export function runReference(graph: ModelGraph, weights: Weights, input: Float32Array, count: number): Record<string, Float32Array> {
  const infos = inferShapes(graph, weights);
  const inSize = size(graph.inputShape);
  if (!Number.isInteger(count) || count < 0 || input.length !== count * inSize) {
    throw new EarshotError('INPUT_INVALID', `input has ${input.length} values, expected ${count} x ${inSize} ([${graph.inputShape.join(',')}])`);
  }
  const result: Record<string, Float32Array> = {};
  const outInfos = infos.filter((i) => i.layer.output !== undefined && graph.outputs.includes(i.layer.output));
  for (const i of outInfos) result[i.layer.output!] = new Float32Array(count * size(i.outputShape));
  const get = (name: string | undefined) => (name === undefined ? undefined : weights.get(name)!.data);
  for (let n = 0; n < count; n++) {
    let x = input.subarray(n * inSize, (n + 1) * inSize);
    const named = new Map<string, Float32Array>();
    for (const info of infos) {
      const l = info.layer;
      switch (l.op) {
        case 'conv2d':
        case 'depthwiseConv2d':
          x = conv(info, x, get(l.weights)!, weights.get(l.weights)!.shape, get(l.bias), l.op === 'depthwiseConv2d', l.activation);
          break;
        case 'maxPool':
          x = maxPool(info, x);
          break;
        case 'globalAvgPool':
          x = globalAvgPool(info, x);
          break;
        case 'flatten':
          break; // NHWC row-major already is the flattened order
        case 'dense':
          x = dense(x, get(l.weights)!, info.inputShape[0]!, info.outputShape[0]!, get(l.bias), l.activation);
          break;
        case 'squeezeExcite':
          x = squeezeExcite(info, x, get(l.squeeze)!, get(l.squeezeBias)!, get(l.excite)!, get(l.exciteBias)!);
          break;
        case 'add': {
          const y = named.get(l.from)!;
          const sum = new Float32Array(x.length);
          for (let i = 0; i < x.length; i++) sum[i] = x[i]! + y[i]!;
          x = sum;
          break;
        }
      }
      if (l.output !== undefined) named.set(l.output, x);
      if (l.output !== undefined && result[l.output]) result[l.output]!.set(x, n * size(info.outputShape));
    }
  }
  return result;
}
