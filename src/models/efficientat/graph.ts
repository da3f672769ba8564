import type { Activation, Layer, ModelGraph } from '../contracts.js';

/**
 * EfficientAT's MobileNetV3 ("mn", Schmid et al. 2023, fschmid56/EfficientAT models/mn):
 * torchvision's MobileNetV3-Large layout scaled by a width multiplier, on a [1, 128, T]
 * log-mel input (here NHWC [128, T, 1]: mel bands as height, frames as width), channel
 * squeeze-excitation with ReLU/sigmoid as nn.Linear layers, and the "mlp" head:
 * global average pool -> Linear -> hardswish -> Linear (527 logits). Convs pad
 * (k - 1) / 2 on every side as PyTorch does, so the graph accepts any T.
 */
export interface BlockConfig {
  readonly input: number;
  readonly kernel: number;
  readonly expanded: number;
  readonly out: number;
  readonly se: boolean;
  readonly activation: Activation;
  readonly stride: number;
}

/** torchvision/EfficientAT `_make_divisible`. */
export function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

// input, kernel, expanded, out, SE, activation, stride (MobileNetV3-Large at width 1; strides (2,2,2,2)).
const LARGE: ReadonlyArray<readonly [number, number, number, number, boolean, 'RE' | 'HS', number]> = [
  [16, 3, 16, 16, false, 'RE', 1],
  [16, 3, 64, 24, false, 'RE', 2],
  [24, 3, 72, 24, false, 'RE', 1],
  [24, 5, 72, 40, true, 'RE', 2],
  [40, 5, 120, 40, true, 'RE', 1],
  [40, 5, 120, 40, true, 'RE', 1],
  [40, 3, 240, 80, false, 'HS', 2],
  [80, 3, 200, 80, false, 'HS', 1],
  [80, 3, 184, 80, false, 'HS', 1],
  [80, 3, 184, 80, false, 'HS', 1],
  [80, 3, 480, 112, true, 'HS', 1],
  [112, 3, 672, 112, true, 'HS', 1],
  [112, 5, 672, 160, true, 'HS', 2],
  [160, 5, 960, 160, true, 'HS', 1],
  [160, 5, 960, 160, true, 'HS', 1],
];

export interface MnConfig {
  readonly widthMult: number;
  readonly blocks: readonly BlockConfig[];
  readonly stem: number;
  /** Channels of the last 1x1 conv (6 x the last block's) = the `features` output. */
  readonly lastConv: number;
  /** Hidden width of the MLP head. */
  readonly head: number;
  readonly classes: number;
  readonly melBands: number;
}

export function mnConfig(widthMult: number, classes = 527, melBands = 128): MnConfig {
  const c = (v: number) => makeDivisible(v * widthMult);
  const blocks = LARGE.map(([i, k, e, o, se, a, s]) => ({ input: c(i), kernel: k, expanded: c(e), out: c(o), se, activation: (a === 'HS' ? 'hardswish' : 'relu') as Activation, stride: s }));
  const last = blocks[blocks.length - 1]!.out;
  return { widthMult, blocks, stem: blocks[0]!.input, lastConv: 6 * last, head: c(1280), classes, melBands };
}

/** SE bottleneck width: make_divisible(channels // 4, 8). */
export const seSqueeze = (channels: number): number => makeDivisible(Math.floor(channels / 4));

/** Weight names: the PyTorch module path of the (BN-folded) conv or linear, `.weight` / `.bias`. */
export function blockPrefix(i: number): string {
  return `features.${i + 1}.block`;
}

/** Which `block.N` index each part of block i has (the expand conv is absent when expanded == input). */
export function blockParts(b: BlockConfig): { expand?: number; depthwise: number; se?: number; project: number } {
  let n = 0;
  const expand = b.expanded !== b.input ? n++ : undefined;
  const depthwise = n++;
  const se = b.se ? n++ : undefined;
  const project = n++;
  return { ...(expand !== undefined ? { expand } : {}), depthwise, ...(se !== undefined ? { se } : {}), project };
}

const same = (k: number) => {
  const p = (k - 1) / 2;
  return [p, p, p, p] as const;
};

function conv(prefix: string, k: number, stride: number, activation: Activation, depthwise = false, output?: string): Layer {
  return {
    op: depthwise ? 'depthwiseConv2d' : 'conv2d',
    weights: `${prefix}.weight`,
    bias: `${prefix}.bias`,
    strides: [stride, stride],
    padding: 'valid',
    pads: same(k),
    activation,
    ...(output !== undefined ? { output } : {}),
  };
}

/** The graph for `frames` log-mel frames; outputs `logits` [classes] and `features` [lastConv]. */
export function mnGraph(cfg: MnConfig, frames: number): ModelGraph {
  const layers: Layer[] = [conv('features.0.0', 3, 2, 'hardswish', false, 'stem')];
  let prev = 'stem';
  cfg.blocks.forEach((b, i) => {
    const p = blockPrefix(i);
    const parts = blockParts(b);
    const name = `block${i + 1}`;
    const residual = b.stride === 1 && b.input === b.out;
    if (parts.expand !== undefined) layers.push(conv(`${p}.${parts.expand}.0`, 1, 1, b.activation));
    layers.push(conv(`${p}.${parts.depthwise}.0`, b.kernel, b.stride, b.activation, true));
    if (parts.se !== undefined) {
      const se = `${p}.${parts.se}.conc_se_layers.0`;
      layers.push({ op: 'squeezeExcite', squeeze: `${se}.fc1.weight`, squeezeBias: `${se}.fc1.bias`, excite: `${se}.fc2.weight`, exciteBias: `${se}.fc2.bias` });
    }
    layers.push(conv(`${p}.${parts.project}.0`, 1, 1, 'none', false, residual ? undefined : name));
    if (residual) layers.push({ op: 'add', from: prev, output: name });
    prev = name;
  });
  const last = `features.${cfg.blocks.length + 1}.0`;
  layers.push(conv(last, 1, 1, 'hardswish'));
  layers.push({ op: 'globalAvgPool', output: 'features' });
  layers.push({ op: 'dense', weights: 'classifier.2.weight', bias: 'classifier.2.bias', activation: 'hardswish' });
  layers.push({ op: 'dense', weights: 'classifier.5.weight', bias: 'classifier.5.bias', activation: 'none', output: 'logits' });
  return { inputShape: [cfg.melBands, frames, 1], layers, outputs: ['logits', 'features'] };
}
