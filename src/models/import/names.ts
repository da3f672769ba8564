import { EarshotError } from '../../errors.js';
import { oihwToHwio, type RawTensor,shapeStr, transpose2d } from './tensors.js';

/**
 * Name mappings from other VGGish ports to the official TF variable names.
 *
 * torchvggish (harritaylor/torchvggish, VGG.features / VGG.embeddings Sequentials):
 *   features.{0,3,6,8,11,13} -> conv1, conv2, conv3/conv3_1, conv3/conv3_2, conv4/conv4_1, conv4/conv4_2
 *   embeddings.{0,2,4}       -> fc1/fc1_1, fc1/fc1_2, fc2
 *   .weight -> /weights (OIHW -> HWIO, [out,in] -> [in,out]); .bias -> /biases.
 *   torchvggish permutes conv features to NHWC before flattening, so fc1 needs no row permutation.
 *   pproc.pca_matrix [128,128] -> pca/eigen_vectors; pproc.pca_means [128,1] -> pca/means [128].
 * TF.js / Keras: `[vggish/]<scope>/<layer>/(kernel|bias|weights|biases)[:0]` where the layer
 *   is conv1, conv2, conv3_1, conv3_2, conv4_1, conv4_2, fc1_1, fc1_2 or fc2 (scopes optional).
 */
export const TORCH_TO_SCOPE: Readonly<Record<string, string>> = {
  'features.0': 'vggish/conv1',
  'features.3': 'vggish/conv2',
  'features.6': 'vggish/conv3/conv3_1',
  'features.8': 'vggish/conv3/conv3_2',
  'features.11': 'vggish/conv4/conv4_1',
  'features.13': 'vggish/conv4/conv4_2',
  'embeddings.0': 'vggish/fc1/fc1_1',
  'embeddings.2': 'vggish/fc1/fc1_2',
  'embeddings.4': 'vggish/fc2',
};

const LAYER_SCOPE: Readonly<Record<string, string>> = {
  conv1: 'vggish/conv1',
  conv2: 'vggish/conv2',
  conv3_1: 'vggish/conv3/conv3_1',
  conv3_2: 'vggish/conv3/conv3_2',
  conv4_1: 'vggish/conv4/conv4_1',
  conv4_2: 'vggish/conv4/conv4_2',
  fc1_1: 'vggish/fc1/fc1_1',
  fc1_2: 'vggish/fc1/fc1_2',
  fc2: 'vggish/fc2',
};

export const PCA_EIGEN = 'pca/eigen_vectors';
export const PCA_MEANS = 'pca/means';

/** PCA tensors under any of the names torchvggish and the npz use. */
export function pcaName(name: string): string | undefined {
  const n = name.replace(/^module\./, '');
  if (n === 'pproc.pca_matrix' || n === 'pca_eigen_vectors' || n === PCA_EIGEN) return PCA_EIGEN;
  if (n === 'pproc.pca_means' || n === 'pca_means' || n === PCA_MEANS) return PCA_MEANS;
  return undefined;
}

/** [128,1] column vectors (torchvggish means) flatten to [128]. */
function squeezePca(t: RawTensor, official: string): RawTensor {
  if (official === PCA_MEANS && t.shape.length === 2 && t.shape[1] === 1) return { name: official, shape: [t.shape[0]!], data: t.data };
  return { name: official, shape: t.shape, data: t.data };
}

/**
 * torchvggish state_dict tensors -> official names and TF layouts. The torch
 * shape is checked against the table *before* transposing so errors quote the
 * shapes as they are in the file.
 */
export function mapTorch(tensors: readonly RawTensor[], table: ReadonlyMap<string, readonly number[]>, source: string): RawTensor[] {
  return tensors.map((t) => {
    const pca = pcaName(t.name);
    if (pca) return squeezePca(t, pca);
    const m = /^(?:module\.)?(features\.\d+|embeddings\.\d+)\.(weight|bias)$/.exec(t.name);
    const scope = m ? TORCH_TO_SCOPE[m[1]!] : undefined;
    if (!m || !scope) throw new EarshotError('MODEL_UNKNOWN_VARIABLE', `${source}: unknown torchvggish key ${t.name} ${shapeStr(t.shape)} (expected features.{0,3,6,8,11,13} and embeddings.{0,2,4} .weight/.bias)`, { source, tensor: t.name });
    const official = `${scope}/${m[2] === 'weight' ? 'weights' : 'biases'}`;
    const tfShape = table.get(official);
    if (!tfShape) throw new EarshotError('MODEL_UNKNOWN_VARIABLE', `${source}: ${t.name} maps to ${official}, which is not a VGGish variable`, { source, tensor: t.name });
    const torchShape = tfShape.length === 4 ? [tfShape[3]!, tfShape[2]!, tfShape[0]!, tfShape[1]!] : tfShape.length === 2 ? [tfShape[1]!, tfShape[0]!] : [...tfShape];
    if (torchShape.length !== t.shape.length || torchShape.some((d, i) => d !== t.shape[i])) {
      throw new EarshotError('MODEL_SHAPE_MISMATCH', `${source}: tensor ${t.name} (${official}) has shape ${shapeStr(t.shape)}, expected ${shapeStr(torchShape)}`, { source, tensor: t.name, shape: [...t.shape], expected: torchShape });
    }
    const conv = t.shape.length === 4 ? oihwToHwio(t.data, t.shape) : t.shape.length === 2 ? transpose2d(t.data, t.shape) : { shape: [...t.shape], data: t.data };
    return { name: official, shape: conv.shape, data: conv.data };
  });
}

/** TF.js / Keras names -> official names (layouts already match TF). */
export function mapTfjsName(name: string): string {
  const pca = pcaName(name);
  if (pca) return pca;
  const n = name.replace(/:0$/, '');
  const m = /^(?:vggish\/)?(?:conv3\/|conv4\/|fc1\/)?(conv1|conv2|conv3_1|conv3_2|conv4_1|conv4_2|fc1_1|fc1_2|fc2)\/(kernel|bias|weights|biases)$/.exec(n);
  if (!m) return n;
  return `${LAYER_SCOPE[m[1]!]!}/${m[2] === 'kernel' || m[2] === 'weights' ? 'weights' : 'biases'}`;
}
