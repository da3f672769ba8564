import type { Activation, Layer, ModelGraph } from '../contracts.js';

/**
 * YAMNet (models/research/audioset/yamnet/yamnet.py): MobileNetV1 on a 96x64 log-mel patch.
 * Batch norm has no learned scale (batchnorm_scale=False) and is folded into each conv's
 * bias by the TFLite converter, so every conv carries a bias and a fused ReLU
 * (plain ReLU, `layers.ReLU()`, confirmed by the tflite's fused activations).
 */
export interface YamnetLayerDef {
  readonly kind: 'conv' | 'separable';
  readonly kernel: readonly [number, number];
  readonly stride: number;
  readonly filters: number;
}

/** _YAMNET_LAYER_DEFS: (layer function, kernel, stride, filters). */
export const YAMNET_LAYER_DEFS: readonly YamnetLayerDef[] = [
  { kind: 'conv', kernel: [3, 3], stride: 2, filters: 32 },
  { kind: 'separable', kernel: [3, 3], stride: 1, filters: 64 },
  { kind: 'separable', kernel: [3, 3], stride: 2, filters: 128 },
  { kind: 'separable', kernel: [3, 3], stride: 1, filters: 128 },
  { kind: 'separable', kernel: [3, 3], stride: 2, filters: 256 },
  { kind: 'separable', kernel: [3, 3], stride: 1, filters: 256 },
  { kind: 'separable', kernel: [3, 3], stride: 2, filters: 512 },
  { kind: 'separable', kernel: [3, 3], stride: 1, filters: 512 },
  { kind: 'separable', kernel: [3, 3], stride: 1, filters: 512 },
  { kind: 'separable', kernel: [3, 3], stride: 1, filters: 512 },
  { kind: 'separable', kernel: [3, 3], stride: 1, filters: 512 },
  { kind: 'separable', kernel: [3, 3], stride: 1, filters: 512 },
  { kind: 'separable', kernel: [3, 3], stride: 2, filters: 1024 },
  { kind: 'separable', kernel: [3, 3], stride: 1, filters: 1024 },
];

export const YAMNET_PATCH_FRAMES = 96;
export const YAMNET_MEL_BANDS = 64;
export const YAMNET_CLASSES = 521;
export const YAMNET_EMBEDDING_DIM = 1024;
export const YAMNET_ACTIVATION: Activation = 'relu';

/** One conv-like layer of the body with the weight shape it needs (TF layouts). */
export interface YamnetConvSpec {
  readonly op: 'conv2d' | 'depthwiseConv2d';
  readonly name: string;
  readonly stride: number;
  readonly weightShape: readonly number[];
  readonly biasShape: readonly number[];
}

/** The 27 conv layers in execution order with their expected weight shapes. */
export function yamnetConvSpecs(): YamnetConvSpec[] {
  const specs: YamnetConvSpec[] = [];
  let channels = 1;
  YAMNET_LAYER_DEFS.forEach((d, i) => {
    const layer = `layer${i + 1}`;
    const [kh, kw] = d.kernel;
    if (d.kind === 'conv') {
      specs.push({ op: 'conv2d', name: `${layer}/conv`, stride: d.stride, weightShape: [kh, kw, channels, d.filters], biasShape: [d.filters] });
    } else {
      specs.push({ op: 'depthwiseConv2d', name: `${layer}/depthwise_conv`, stride: d.stride, weightShape: [kh, kw, channels, 1], biasShape: [channels] });
      specs.push({ op: 'conv2d', name: `${layer}/pointwise_conv`, stride: 1, weightShape: [1, 1, channels, d.filters], biasShape: [d.filters] });
    }
    channels = d.filters;
  });
  return specs;
}

export const LOGITS_WEIGHTS = 'logits/weights';
export const LOGITS_BIAS = 'logits/bias';

/** Every weight tensor the graph reads, with its shape, in graph order. */
export function yamnetWeightShapes(): Array<{ name: string; shape: readonly number[] }> {
  return [
    ...yamnetConvSpecs().flatMap((s) => [
      { name: `${s.name}/weights`, shape: s.weightShape },
      { name: `${s.name}/bias`, shape: s.biasShape },
    ]),
    { name: LOGITS_WEIGHTS, shape: [YAMNET_EMBEDDING_DIM, YAMNET_CLASSES] },
    { name: LOGITS_BIAS, shape: [YAMNET_CLASSES] },
  ];
}

export function yamnetGraph(): ModelGraph {
  const convs: Layer[] = yamnetConvSpecs().map((s) => ({
    op: s.op,
    weights: `${s.name}/weights`,
    bias: `${s.name}/bias`,
    strides: [s.stride, s.stride],
    padding: 'same',
    activation: YAMNET_ACTIVATION,
  }));
  return {
    inputShape: [YAMNET_PATCH_FRAMES, YAMNET_MEL_BANDS, 1],
    layers: [
      ...convs,
      { op: 'globalAvgPool', output: 'embedding' },
      { op: 'dense', weights: LOGITS_WEIGHTS, bias: LOGITS_BIAS, activation: 'sigmoid', output: 'scores' },
    ],
    outputs: ['scores', 'embedding'],
  };
}
