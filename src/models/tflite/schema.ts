import { EarshotError } from '../../errors.js';
import { FlatReader, type FlatTable } from './flatbuffer.js';
import { activationName, builtinName, BuiltinOp, OptionsType, type TensorTypeName, tensorTypeName, type TflitePadding } from './ops.js';

/**
 * Plain-object view of the TFLite schema tables earshot needs (Model, SubGraph,
 * Tensor, Buffer, Operator, OperatorCode, QuantizationParameters and the conv /
 * pool / fully-connected options). Field ids follow tensorflow/lite/schema/schema.fbs;
 * a union field occupies two ids (type tag, then value).
 */

export interface Quantization {
  readonly scale: readonly number[];
  readonly zeroPoint: readonly number[];
  readonly quantizedDimension: number;
}

export interface TfliteTensor {
  readonly index: number;
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: TensorTypeName;
  readonly buffer: number;
  readonly quantization?: Quantization;
}

export type OperatorOptions =
  | { readonly kind: 'conv2d'; readonly padding: TflitePadding; readonly strideH: number; readonly strideW: number; readonly activation: string; readonly dilationH: number; readonly dilationW: number }
  | { readonly kind: 'depthwiseConv2d'; readonly padding: TflitePadding; readonly strideH: number; readonly strideW: number; readonly depthMultiplier: number; readonly activation: string; readonly dilationH: number; readonly dilationW: number }
  | { readonly kind: 'pool2d'; readonly padding: TflitePadding; readonly strideH: number; readonly strideW: number; readonly filterH: number; readonly filterW: number; readonly activation: string }
  | { readonly kind: 'fullyConnected'; readonly activation: string; readonly keepNumDims: boolean }
  | { readonly kind: 'other'; readonly optionsType: number };

export interface TfliteOperator {
  readonly index: number;
  /** Builtin operator name, e.g. CONV_2D; CUSTOM ops carry `customCode`. */
  readonly op: string;
  readonly builtinCode: number;
  readonly customCode?: string;
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly options?: OperatorOptions;
}

export interface TfliteSubgraph {
  readonly name: string;
  readonly tensors: readonly TfliteTensor[];
  readonly inputs: readonly number[];
  readonly outputs: readonly number[];
  readonly operators: readonly TfliteOperator[];
}

export interface TfliteModel {
  readonly source: string;
  readonly version: number;
  readonly description: string;
  readonly subgraphs: readonly TfliteSubgraph[];
  /** Buffer contents as views into the file bytes (empty for activation tensors). */
  readonly buffers: readonly Uint8Array[];
}

function padding(code: number): TflitePadding {
  return code === 1 ? 'VALID' : 'SAME';
}

function decodeOptions(t: FlatTable, type: number): OperatorOptions | undefined {
  if (type === 0) return undefined;
  const o = t.subtable(4, 'builtin_options');
  if (!o) return undefined;
  switch (type) {
    case OptionsType.Conv2DOptions:
      return {
        kind: 'conv2d',
        padding: padding(o.i8(0, 'padding')),
        strideW: o.i32(1, 'stride_w'),
        strideH: o.i32(2, 'stride_h'),
        activation: activationName(o.i8(3, 'fused_activation_function')),
        dilationW: o.i32(4, 'dilation_w_factor', 1),
        dilationH: o.i32(5, 'dilation_h_factor', 1),
      };
    case OptionsType.DepthwiseConv2DOptions:
      return {
        kind: 'depthwiseConv2d',
        padding: padding(o.i8(0, 'padding')),
        strideW: o.i32(1, 'stride_w'),
        strideH: o.i32(2, 'stride_h'),
        depthMultiplier: o.i32(3, 'depth_multiplier'),
        activation: activationName(o.i8(4, 'fused_activation_function')),
        dilationW: o.i32(5, 'dilation_w_factor', 1),
        dilationH: o.i32(6, 'dilation_h_factor', 1),
      };
    case OptionsType.Pool2DOptions:
      return {
        kind: 'pool2d',
        padding: padding(o.i8(0, 'padding')),
        strideW: o.i32(1, 'stride_w'),
        strideH: o.i32(2, 'stride_h'),
        filterW: o.i32(3, 'filter_width'),
        filterH: o.i32(4, 'filter_height'),
        activation: activationName(o.i8(5, 'fused_activation_function')),
      };
    case OptionsType.FullyConnectedOptions:
      return { kind: 'fullyConnected', activation: activationName(o.i8(0, 'fused_activation_function')), keepNumDims: o.bool(2, 'keep_num_dims') };
    default:
      return { kind: 'other', optionsType: type };
  }
}

function decodeQuantization(t: FlatTable | undefined): Quantization | undefined {
  if (!t) return undefined;
  const scale = t.f32s(2, 'scale');
  if (scale.length === 0) return undefined;
  return { scale, zeroPoint: t.i64s(3, 'zero_point'), quantizedDimension: t.i32(6, 'quantized_dimension') };
}

/**
 * deprecated_builtin_code (int8, field 0) was the only code before schema v3a;
 * newer writers put the real code in builtin_code (int32, field 3) and clamp the
 * old one to 127. Take the larger so both old and new files decode.
 */
function opcodeOf(t: FlatTable): { code: number; custom?: string } {
  const deprecated = t.i8(0, 'deprecated_builtin_code');
  const code = Math.max(deprecated, t.i32(3, 'builtin_code'));
  const custom = t.string(1, 'custom_code');
  return custom === undefined ? { code } : { code, custom };
}

function decodeSubgraph(g: FlatTable, gi: number, opcodes: ReadonlyArray<{ code: number; custom?: string }>, source: string): TfliteSubgraph {
  const tensors = g.tables(0, 'tensors', `subgraph[${gi}].tensor`).map((t, index): TfliteTensor => {
    const q = decodeQuantization(t.subtable(4, 'quantization'));
    return {
      index,
      name: t.string(3, 'name') ?? `tensor_${index}`,
      shape: t.i32s(0, 'shape'),
      type: tensorTypeName(t.i8(1, 'type')),
      buffer: t.u32(2, 'buffer'),
      ...(q ? { quantization: q } : {}),
    };
  });
  const operators = g.tables(3, 'operators', `subgraph[${gi}].operator`).map((o, index): TfliteOperator => {
    const opcodeIndex = o.u32(0, 'opcode_index');
    const code = opcodes[opcodeIndex];
    if (!code) throw new EarshotError('MODEL_INVALID', `${source}: operator ${index} uses opcode_index ${opcodeIndex}, but only ${opcodes.length} operator codes exist`, { file: source, operator: index });
    const inputs = o.i32s(1, 'inputs');
    const outputs = o.i32s(2, 'outputs');
    for (const ti of [...inputs, ...outputs]) {
      if (ti >= tensors.length) throw new EarshotError('MODEL_INVALID', `${source}: operator ${index} (${builtinName(code.code)}) refers to tensor ${ti}, but subgraph ${gi} has ${tensors.length}`, { file: source, operator: index });
    }
    const options = decodeOptions(o, o.u8(3, 'builtin_options_type'));
    return {
      index,
      op: builtinName(code.code),
      builtinCode: code.code,
      ...(code.code === BuiltinOp.CUSTOM && code.custom !== undefined ? { customCode: code.custom } : {}),
      inputs,
      outputs,
      ...(options ? { options } : {}),
    };
  });
  return { name: g.string(4, 'name') ?? `subgraph_${gi}`, tensors, inputs: g.i32s(1, 'inputs'), outputs: g.i32s(2, 'outputs'), operators };
}

/** Parses a .tflite flatbuffer. Throws MODEL_INVALID naming the file and the field that is out of bounds. */
export function parseTflite(bytes: Uint8Array, source = '<tflite>'): TfliteModel {
  const r = new FlatReader(bytes, source);
  const model = r.table(r.root('TFL3'), 'Model');
  const opcodes = model.tables(1, 'operator_codes', 'operator_code').map(opcodeOf);
  const buffers = model.tables(4, 'buffers', 'buffer').map((b, i) => {
    const data = b.bytes(0, 'data');
    if (data && data.length > 0) return data;
    // Models over 2 GB keep buffers after the flatbuffer, addressed from the file start.
    const offset = Number(b.u64(1, 'offset'));
    const size = Number(b.u64(2, 'size'));
    if (offset > 1 && size > 0) {
      r.check(offset, size, `buffer[${i}] (offset ${offset}, size ${size})`);
      return bytes.subarray(offset, offset + size);
    }
    return new Uint8Array(0);
  });
  const subgraphs = model.tables(2, 'subgraphs', 'subgraph').map((g, gi) => decodeSubgraph(g, gi, opcodes, source));
  for (const g of subgraphs) {
    for (const t of g.tensors) {
      if (t.buffer >= buffers.length) throw new EarshotError('MODEL_INVALID', `${source}: tensor ${t.index} (${t.name}) refers to buffer ${t.buffer}, but the model has ${buffers.length}`, { file: source, tensor: t.name });
    }
  }
  return { source, version: model.u32(0, 'version'), description: model.string(3, 'description') ?? '', subgraphs, buffers };
}
