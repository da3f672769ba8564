import { EarshotError } from '../../errors.js';
import type { Activation, Weights } from '../contracts.js';
import { depthwiseToHwcm, ohwiToHwio, tensorToFloat32, transpose2d } from '../tflite/dequantize.js';
import type { TfliteModel, TfliteOperator, TfliteSubgraph, TfliteTensor } from '../tflite/schema.js';
import { LOGITS_BIAS, LOGITS_WEIGHTS, YAMNET_ACTIVATION, YAMNET_CLASSES, YAMNET_EMBEDDING_DIM, YAMNET_MEL_BANDS, YAMNET_PATCH_FRAMES, type YamnetConvSpec,yamnetConvSpecs } from './graph.js';

/** Where one earshot weight came from, for `models inspect` and tests. */
export interface MappedTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly operator: number;
  readonly op: string;
  readonly tensor: string;
  readonly tfliteShape: readonly number[];
  readonly tfliteType: string;
  readonly quantized: 'per-channel' | 'per-tensor' | 'none';
}

export interface YamnetWeights {
  readonly weights: Weights;
  readonly mapped: readonly MappedTensor[];
  /** Operators before the first body conv (the waveform -> log-mel frontend), skipped. */
  readonly skippedFrontendOps: number;
}

const FUSED: Record<string, Activation | undefined> = { NONE: 'none', RELU: 'relu', RELU6: 'relu6' };

function mismatch(src: string, o: TfliteOperator, msg: string): never {
  throw new EarshotError('MODEL_SHAPE_MISMATCH', `${src}: operator ${o.index} (${o.op}) does not match YAMNet: ${msg}`, { file: src, operator: o.index });
}

function same(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

const isConst = (model: TfliteModel, t: TfliteTensor) => (model.buffers[t.buffer]?.length ?? 0) > 0;

/**
 * The constant behind an operator input. Float16 / some int8 exports keep weights
 * behind an explicit DEQUANTIZE op instead of feeding them to the conv directly
 * (hybrid ops, as in Google's yamnet.tflite); both resolve to the stored tensor.
 */
function constTensor(model: TfliteModel, g: TfliteSubgraph, o: TfliteOperator, slot: number, what: string): TfliteTensor {
  const ti = o.inputs[slot];
  let t = ti === undefined || ti < 0 ? undefined : g.tensors[ti];
  if (!t) mismatch(model.source, o, `it has no ${what} input`);
  if (!isConst(model, t)) {
    const dq = g.operators.find((p) => p.op === 'DEQUANTIZE' && p.outputs[0] === t!.index);
    const src = dq ? g.tensors[dq.inputs[0]!] : undefined;
    if (!src || !isConst(model, src)) mismatch(model.source, o, `its ${what} ${t.name} is not a constant`);
    t = src;
  }
  return t;
}

function quantKind(t: TfliteTensor): MappedTensor['quantized'] {
  if (!t.quantization || t.type === 'FLOAT32' || t.type === 'FLOAT16') return 'none';
  return t.quantization.scale.length > 1 ? 'per-channel' : 'per-tensor';
}

function checkConvOptions(model: TfliteModel, o: TfliteOperator, spec: YamnetConvSpec): void {
  const src = model.source;
  const opt = o.options;
  const kind = spec.op === 'conv2d' ? 'conv2d' : 'depthwiseConv2d';
  if (!opt || opt.kind !== kind) mismatch(src, o, `expected ${spec.op} options for ${spec.name}`);
  if (opt.strideH !== spec.stride || opt.strideW !== spec.stride) mismatch(src, o, `${spec.name} needs stride ${spec.stride}, tflite has ${opt.strideH}x${opt.strideW}`);
  if (opt.padding !== 'SAME') mismatch(src, o, `${spec.name} needs SAME padding, tflite has ${opt.padding}`);
  if (opt.dilationH !== 1 || opt.dilationW !== 1) mismatch(src, o, `${spec.name} has dilation ${opt.dilationH}x${opt.dilationW}`);
  if (FUSED[opt.activation] !== YAMNET_ACTIVATION) mismatch(src, o, `${spec.name} needs fused ${YAMNET_ACTIVATION}, tflite has ${opt.activation}`);
  if (opt.kind === 'depthwiseConv2d' && opt.depthMultiplier !== 1) mismatch(src, o, `${spec.name} needs depth multiplier 1, tflite has ${opt.depthMultiplier}`);
}

/**
 * Maps the tflite's MobileNetV1 body onto YAMNet's layers by operator order:
 * the first CONV_2D starts the body; the 27 conv/depthwise ops that follow must
 * chain output -> input with the shapes of _YAMNET_LAYER_DEFS, then MEAN
 * (embedding), FULLY_CONNECTED [521, 1024] and LOGISTIC. Everything before the
 * first conv is the waveform frontend, which earshot computes itself.
 */
export function mapYamnetWeights(model: TfliteModel): YamnetWeights {
  const src = model.source;
  const g = model.subgraphs[0];
  if (!g) throw new EarshotError('MODEL_INVALID', `${src}: the model has no subgraph`, { file: src });
  const specs = yamnetConvSpecs();
  const first = g.operators.findIndex((o) => o.op === 'CONV_2D');
  if (first < 0) throw new EarshotError('MODEL_INVALID', `${src}: no CONV_2D operator; this is not YAMNet (subgraph ${g.name} has ${g.operators.length} operators)`, { file: src });
  const body = g.operators.slice(first).filter((o) => o.op === 'CONV_2D' || o.op === 'DEPTHWISE_CONV_2D');
  if (body.length !== specs.length) {
    throw new EarshotError('MODEL_INVALID', `${src}: YAMNet has ${specs.length} conv layers (1 conv + 13 depthwise/pointwise pairs), the tflite has ${body.length} from operator ${first} on`, {
      file: src,
      convLayers: body.length,
    });
  }
  const inputShape = g.tensors[body[0]!.inputs[0]!]?.shape ?? [];
  if (!same(inputShape.slice(1), [YAMNET_PATCH_FRAMES, YAMNET_MEL_BANDS, 1])) mismatch(src, body[0]!, `the body input is [${inputShape.join(',')}], expected [1,${YAMNET_PATCH_FRAMES},${YAMNET_MEL_BANDS},1]`);

  const weights = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  const mapped: MappedTensor[] = [];
  const put = (name: string, o: TfliteOperator, t: TfliteTensor, v: { shape: readonly number[]; data: Float32Array }, expected: readonly number[]): void => {
    if (!same(v.shape, expected)) mismatch(src, o, `tensor ${t.name} maps to ${name} with shape [${v.shape.join(',')}], expected [${expected.join(',')}]`);
    weights.set(name, v);
    mapped.push({ name, shape: v.shape, operator: o.index, op: o.op, tensor: t.name, tfliteShape: t.shape, tfliteType: t.type, quantized: quantKind(t) });
  };

  body.forEach((o, i) => {
    const spec = specs[i]!;
    const wantOp = spec.op === 'conv2d' ? 'CONV_2D' : 'DEPTHWISE_CONV_2D';
    if (o.op !== wantOp) mismatch(src, o, `layer ${spec.name} should be ${wantOp}`);
    if (i > 0 && o.inputs[0] !== body[i - 1]!.outputs[0]) mismatch(src, o, `${spec.name} does not read the output of operator ${body[i - 1]!.index}; the body is not a plain chain`);
    checkConvOptions(model, o, spec);
    const wt = constTensor(model, g, o, 1, 'filter');
    const bt = constTensor(model, g, o, 2, 'bias');
    if (wt.shape.length !== 4) mismatch(src, o, `filter ${wt.name} has rank ${wt.shape.length}, expected 4`);
    const raw = tensorToFloat32(model, wt);
    const w = spec.op === 'conv2d' ? ohwiToHwio(raw, wt.shape) : depthwiseToHwcm(raw, wt.shape, 1);
    put(`${spec.name}/weights`, o, wt, w, spec.weightShape);
    put(`${spec.name}/bias`, o, bt, { shape: bt.shape, data: tensorToFloat32(model, bt) }, spec.biasShape);
  });

  const consumer = (tensor: number, op: string, after: TfliteOperator): TfliteOperator => {
    const c = g.operators.find((o) => o.index > after.index && o.inputs[0] === tensor);
    if (!c || c.op !== op) {
      throw new EarshotError('MODEL_INVALID', `${src}: after operator ${after.index} (${after.op}) YAMNet needs ${op}, found ${c ? `operator ${c.index} (${c.op})` : 'nothing'}`, { file: src, operator: after.index });
    }
    return c;
  };
  const last = body[body.length - 1]!;
  const mean = consumer(last.outputs[0]!, 'MEAN', last);
  const fc = consumer(mean.outputs[0]!, 'FULLY_CONNECTED', mean);
  if (fc.options?.kind === 'fullyConnected' && fc.options.activation !== 'NONE') mismatch(src, fc, `logits need no fused activation, tflite has ${fc.options.activation}`);
  consumer(fc.outputs[0]!, 'LOGISTIC', fc);
  const fw = constTensor(model, g, fc, 1, 'weights');
  if (fw.shape.length !== 2) mismatch(src, fc, `weights ${fw.name} have rank ${fw.shape.length}, expected 2`);
  put(LOGITS_WEIGHTS, fc, fw, transpose2d(tensorToFloat32(model, fw), fw.shape), [YAMNET_EMBEDDING_DIM, YAMNET_CLASSES]);
  const fb = constTensor(model, g, fc, 2, 'bias');
  put(LOGITS_BIAS, fc, fb, { shape: fb.shape, data: tensorToFloat32(model, fb) }, [YAMNET_CLASSES]);
  return { weights, mapped, skippedFrontendOps: first };
}
