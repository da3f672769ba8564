/**
 * Imports the seed's Keras 2 `model.save_weights()` HDF5 file (e.g. final_weights.h5):
 * root attribute `layer_names`, one group per layer whose `weight_names` attribute lists
 * datasets such as `dense_3/kernel:0` (Dense: kernel, bias; BatchNormalization: gamma,
 * beta, moving_mean, moving_variance). Keras stores layers in graph (depth) order, which
 * differs from creation order for the multi-attention branches, so weighted layers are
 * matched by the numeric suffix of their default names (dense_N, batch_normalization_N),
 * i.e. creation order, which is the order of paramSpecs().
 */
import { existsSync } from 'node:fs';

import { EarshotError } from '../errors.js';
import { type NetSpec, type Params, paramSpecs } from './net.js';

interface H5Attr {
  value: unknown;
}
interface H5Node {
  attrs: Record<string, H5Attr>;
  get(name: string): unknown;
  close?(): unknown;
}
interface H5Dataset {
  shape: number[] | null;
  value: unknown;
}

function strings(v: unknown): string[] {
  const arr = Array.isArray(v) ? v : typeof v === 'string' ? [v] : v && typeof v === 'object' && Symbol.iterator in v ? Array.from(v as Iterable<unknown>) : [];
  return arr.map((x) => (x instanceof Uint8Array ? Buffer.from(x).toString('utf8') : String(x)));
}

const suffix = (name: string): number => Number(/_(\d+)$/.exec(name)?.[1] ?? '0');

interface KerasLayer {
  name: string;
  kind: 'dense' | 'bn';
  weights: Map<string, { shape: number[]; data: Float32Array }>;
}

function readLayers(file: H5Node, path: string): KerasLayer[] {
  const names = strings(file.attrs['layer_names']?.value);
  if (names.length === 0) throw new EarshotError('MODEL_INVALID', `${path}: no layer_names attribute (not a Keras save_weights file)`, { path });
  const layers: KerasLayer[] = [];
  for (const ln of names) {
    const g = file.get(ln) as H5Node | null;
    if (!g) throw new EarshotError('MODEL_INVALID', `${path}: layer group ${ln} listed in layer_names is missing`, { path, layer: ln });
    const wn = strings(g.attrs['weight_names']?.value);
    if (wn.length === 0) continue;
    const weights = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const w of wn) {
      const ds = g.get(w) as H5Dataset | null;
      if (!ds || !ds.shape) throw new EarshotError('MODEL_INVALID', `${path}: dataset ${ln}/${w} is missing`, { path, tensor: `${ln}/${w}` });
      const v = ds.value;
      const data = v instanceof Float32Array ? Float32Array.from(v) : v instanceof Float64Array ? Float32Array.from(v) : undefined;
      if (!data) throw new EarshotError('MODEL_INVALID', `${path}: dataset ${ln}/${w} is not float32/float64`, { path, tensor: `${ln}/${w}` });
      // 'dense_3/kernel:0' -> 'kernel'
      const short = w.split('/').at(-1)!.replace(/:\d+$/, '');
      weights.set(short, { shape: ds.shape, data });
    }
    const kind = weights.has('kernel') ? 'dense' : weights.has('moving_mean') ? 'bn' : undefined;
    if (!kind) throw new EarshotError('MODEL_INVALID', `${path}: layer ${ln} has weights ${wn.join(', ')}, expected a Dense or BatchNormalization layer`, { path, layer: ln });
    layers.push({ name: ln, kind, weights });
  }
  return layers;
}

const KERAS_NAME: Record<string, string> = { kernel: 'kernel', bias: 'bias', gamma: 'gamma', beta: 'beta', movingMean: 'moving_mean', movingVariance: 'moving_variance' };

/** Maps the Keras layers onto our parameter names for `spec`; throws naming the mismatching tensor. */
export function kerasLayersToParams(layers: readonly KerasLayer[], spec: NetSpec, path: string): Params {
  const dense = layers.filter((l) => l.kind === 'dense').sort((a, b) => suffix(a.name) - suffix(b.name));
  const bn = layers.filter((l) => l.kind === 'bn').sort((a, b) => suffix(a.name) - suffix(b.name));
  const ourLayers: string[] = [];
  for (const p of paramSpecs(spec)) {
    const layer = p.name.split('.')[0]!;
    if (!ourLayers.includes(layer)) ourLayers.push(layer);
  }
  const ourDense = ourLayers.filter((l) => !l.startsWith('bn'));
  const ourBn = ourLayers.filter((l) => l.startsWith('bn'));
  if (dense.length !== ourDense.length || bn.length !== ourBn.length) {
    throw new EarshotError('MODEL_SHAPE_MISMATCH', `${path}: ${dense.length} Dense and ${bn.length} BatchNormalization layers, ${spec.modelType} needs ${ourDense.length} and ${ourBn.length}`, {
      path,
    });
  }
  const source = new Map<string, KerasLayer>([...ourDense.map((l, i) => [l, dense[i]!] as const), ...ourBn.map((l, i) => [l, bn[i]!] as const)]);
  const params: Params = new Map();
  for (const p of paramSpecs(spec)) {
    const [layer, field] = p.name.split('.') as [string, string];
    const k = source.get(layer)!;
    const w = k.weights.get(KERAS_NAME[field]!);
    if (!w) throw new EarshotError('MODEL_UNKNOWN_VARIABLE', `${path}: layer ${k.name} has no ${KERAS_NAME[field]} (for ${p.name})`, { path, tensor: p.name });
    if (w.shape.join(',') !== p.shape.join(','))
      throw new EarshotError('MODEL_SHAPE_MISMATCH', `${path}: ${k.name}/${KERAS_NAME[field]} has shape [${w.shape.join(',')}], ${p.name} needs [${p.shape.join(',')}]`, { path, tensor: p.name });
    params.set(p.name, w.data);
  }
  return params;
}

/** Reads a Keras 2 weights file for `spec` (default head: decision_level_multi_attention). */
export async function importKerasWeights(path: string, spec: NetSpec): Promise<Params> {
  if (!existsSync(path)) throw new EarshotError('MODEL_NOT_FOUND', `Keras weights file ${path} not found`, { path });
  const h5 = (await import('h5wasm/node')).default;
  await h5.ready;
  let file: (H5Node & { close(): unknown }) | undefined;
  try {
    file = new h5.File(path, 'r') as unknown as H5Node & { close(): unknown };
  } catch (e) {
    throw new EarshotError('MODEL_INVALID', `${path} is not a readable HDF5 file: ${(e as Error).message}`, { path }, { cause: e });
  }
  try {
    return kerasLayersToParams(readLayers(file, path), spec, path);
  } catch (e) {
    if (e instanceof EarshotError) throw e;
    // h5wasm opens some non-HDF5 files lazily and fails on first access.
    throw new EarshotError('MODEL_INVALID', `${path} is not a readable Keras weights file: ${(e as Error).message}`, { path }, { cause: e });
  } finally {
    file.close();
  }
}
