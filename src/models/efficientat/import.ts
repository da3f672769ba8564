import { basename } from 'node:path';

import type { LabelInfo } from '../../classify/contracts.js';
import { EarshotError } from '../../errors.js';
import { EFFICIENTAT_MEL } from '../../features/kaldi-mel.js';
import type { Weights } from '../contracts.js';
import type { ModelManifest } from '../contracts.js';
import { graphMacs,inferShapes } from '../graph/shapes.js';
import { readPth } from '../import/pth.js';
import { oihwToHwio, type RawTensor,shapeStr, transpose2d } from '../import/tensors.js';
import { type ModelDir,writeModelDir } from '../modeldir.js';
import { blockParts, blockPrefix, type MnConfig,mnConfig, mnGraph, seSqueeze } from './graph.js';

/** EfficientAT builds its BatchNorms with eps 0.001 (torchvision MobileNetV3's norm_layer). */
export const BN_EPS = 0.001;
/** The streaming window the model was trained on: 10 s at 32 kHz = 1000 frames. */
export const WINDOW_FRAMES = 1000;

type Kind = 'conv' | 'dw' | 'linear';
interface Part {
  readonly prefix: string;
  readonly kind: Kind;
  /** PyTorch shape of `.weight`. */
  readonly shape: readonly number[];
  readonly bn: boolean;
}

/** Every weight-bearing module the config implies, with its PyTorch weight shape. */
export function expectedParts(cfg: MnConfig): Part[] {
  const parts: Part[] = [{ prefix: 'features.0', kind: 'conv', shape: [cfg.stem, 1, 3, 3], bn: true }];
  cfg.blocks.forEach((b, i) => {
    const p = blockPrefix(i);
    const n = blockParts(b);
    if (n.expand !== undefined) parts.push({ prefix: `${p}.${n.expand}`, kind: 'conv', shape: [b.expanded, b.input, 1, 1], bn: true });
    parts.push({ prefix: `${p}.${n.depthwise}`, kind: 'dw', shape: [b.expanded, 1, b.kernel, b.kernel], bn: true });
    if (n.se !== undefined) {
      const s = seSqueeze(b.expanded);
      parts.push({ prefix: `${p}.${n.se}.conc_se_layers.0.fc1`, kind: 'linear', shape: [s, b.expanded], bn: false });
      parts.push({ prefix: `${p}.${n.se}.conc_se_layers.0.fc2`, kind: 'linear', shape: [b.expanded, s], bn: false });
    }
    parts.push({ prefix: `${p}.${n.project}`, kind: 'conv', shape: [b.out, b.expanded, 1, 1], bn: true });
  });
  const last = cfg.blocks[cfg.blocks.length - 1]!.out;
  parts.push({ prefix: `features.${cfg.blocks.length + 1}`, kind: 'conv', shape: [cfg.lastConv, last, 1, 1], bn: true });
  parts.push({ prefix: 'classifier.2', kind: 'linear', shape: [cfg.head, cfg.lastConv], bn: false });
  parts.push({ prefix: 'classifier.5', kind: 'linear', shape: [cfg.classes, cfg.head], bn: false });
  return parts;
}

function take(byName: Map<string, RawTensor>, name: string, shape: readonly number[], source: string, cfg: MnConfig): Float32Array {
  const t = byName.get(name);
  if (!t) {
    const head = name.startsWith('classifier') ? ` (EfficientAT's "mlp" head: classifier.2 and classifier.5 Linear layers; other head types are not supported)` : '';
    throw new EarshotError('MODEL_INVALID', `${source}: tensor ${name} ${shapeStr(shape)} is missing${head}`, { source, tensor: name });
  }
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new EarshotError(
      'MODEL_SHAPE_MISMATCH',
      `${source}: tensor ${name} has shape ${shapeStr(t.shape)}, EfficientAT mn width ${cfg.widthMult} with ${cfg.classes} classes expects ${shapeStr(shape)} (another width or head? pass --width)`,
      { source, tensor: name, actual: [...t.shape], expected: [...shape] },
    );
  }
  byName.delete(name);
  return t.data;
}

/**
 * Maps an EfficientAT MobileNetV3 state dict onto the IR: BatchNorm folded into the
 * preceding bias-free conv (w * g / sqrt(v + eps), b - m * g / sqrt(v + eps)), convs
 * to HWIO, depthwise to HWC1, linears to [in, out]. Every float tensor must be used.
 */
export function mapStateDict(tensors: readonly RawTensor[], cfg: MnConfig, source: string): Weights {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const out = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const p of expectedParts(cfg)) {
    if (p.kind === 'linear') {
      const w = transpose2d(take(byName, `${p.prefix}.weight`, p.shape, source, cfg), p.shape);
      out.set(`${p.prefix}.weight`, w);
      out.set(`${p.prefix}.bias`, { shape: [p.shape[0]!], data: take(byName, `${p.prefix}.bias`, [p.shape[0]!], source, cfg).slice() });
      continue;
    }
    const o = p.shape[0]!;
    const w = take(byName, `${p.prefix}.0.weight`, p.shape, source, cfg);
    const bn = (k: string) => take(byName, `${p.prefix}.1.${k}`, [o], source, cfg);
    const [gamma, beta, mean, variance] = [bn('weight'), bn('bias'), bn('running_mean'), bn('running_var')];
    const per = w.length / o;
    const folded = new Float32Array(w.length);
    const bias = new Float32Array(o);
    for (let c = 0; c < o; c++) {
      const s = gamma[c]! / Math.sqrt(variance[c]! + BN_EPS);
      for (let j = 0; j < per; j++) folded[c * per + j] = w[c * per + j]! * s;
      bias[c] = beta[c]! - mean[c]! * s;
    }
    const hwio = oihwToHwio(folded, p.shape);
    // Depthwise [C,1,kh,kw] -> HWIO [kh,kw,1,C] has the same data order as HWC1 [kh,kw,C,1].
    const shape = p.kind === 'dw' ? [p.shape[2]!, p.shape[3]!, o, 1] : hwio.shape;
    out.set(`${p.prefix}.0.weight`, { shape, data: hwio.data });
    out.set(`${p.prefix}.0.bias`, { shape: [o], data: bias });
  }
  for (const [name] of byName) if (name.endsWith('num_batches_tracked')) byName.delete(name);
  const left = [...byName.values()];
  if (left.length > 0) {
    const t = left[0]!;
    throw new EarshotError('MODEL_UNKNOWN_VARIABLE', `${source}: tensor ${t.name} ${shapeStr(t.shape)} is not part of EfficientAT mn width ${cfg.widthMult} with the mlp head (${left.length} such tensors)`, { source, tensor: t.name });
  }
  return out;
}

export interface EfficientAtImport {
  readonly manifest: ModelManifest;
  readonly params: number;
  readonly macsPerWindow: number;
}

export interface ImportOptions {
  readonly ptPath: string;
  readonly outDir: string;
  readonly labels: readonly LabelInfo[];
  readonly widthMult?: number;
  readonly name?: string;
}

export function importEfficientAt(opts: ImportOptions): EfficientAtImport {
  const widthMult = opts.widthMult ?? 0.4;
  const cfg = mnConfig(widthMult, opts.labels.length);
  const read = readPth(opts.ptPath);
  const weights = mapStateDict(read.tensors, cfg, opts.ptPath);
  const graph = mnGraph(cfg, WINDOW_FRAMES);
  const macsPerWindow = graphMacs(inferShapes(graph, weights), weights);
  const params = [...weights.values()].reduce((a, w) => a + w.data.length, 0);
  const tag = `mn${String(Math.round(widthMult * 10)).padStart(2, '0')}`;
  const manifest = writeModelDir(
    opts.outDir,
    {
      name: opts.name ?? `efficientat-${tag}`,
      architecture: 'efficientat-mn',
      version: '1',
      input: { name: 'logmel', shape: [cfg.melBands, WINDOW_FRAMES, 1] },
      outputs: [
        { name: 'logits', shape: [cfg.classes] },
        { name: 'features', shape: [cfg.lastConv] },
      ],
      frontend: { ...EFFICIENTAT_MEL, widthMult },
      provenance: {
        source: basename(opts.ptPath),
        model: `EfficientAT ${tag}_as (Schmid, Koutini, Widmer 2023), MobileNetV3 width ${widthMult}, mlp head`,
        licence: 'MIT, https://github.com/fschmid56/EfficientAT',
        batchNormFolded: { eps: BN_EPS },
        params,
        macsPer10sWindow: macsPerWindow,
      },
    },
    weights,
    opts.labels,
  );
  return { manifest, params, macsPerWindow };
}

export type { ModelDir };
