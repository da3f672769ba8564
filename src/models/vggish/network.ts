import { EarshotError } from '../../errors.js';
import type { Layer, ModelGraph, Weights } from '../contracts.js';

/**
 * VGGish (Hershey et al. 2017) as a ModelGraph with the official TF variable
 * names, so weights imported from the TF checkpoint, torchvggish or TF.js all
 * land under the same keys. Layouts are TF's: conv HWIO, dense [in, out].
 */
export const VGGISH_INPUT_SHAPE = [96, 64, 1] as const;
export const VGGISH_EMBEDDING_SIZE = 128;
export const VGGISH_OUTPUT = 'embedding';

/** Extra tensors a VGGish model directory may carry beside the network (PCA postprocess, see postprocess.ts). */
export const VGGISH_PCA_TENSORS: Readonly<Record<string, readonly number[]>> = {
  'pca/eigen_vectors': [128, 128],
  'pca/means': [128],
};

interface ConvSpec {
  scope: string;
  in: number;
  out: number;
  poolAfter: boolean;
}

const CONVS: readonly ConvSpec[] = [
  { scope: 'vggish/conv1', in: 1, out: 64, poolAfter: true },
  { scope: 'vggish/conv2', in: 64, out: 128, poolAfter: true },
  { scope: 'vggish/conv3/conv3_1', in: 128, out: 256, poolAfter: false },
  { scope: 'vggish/conv3/conv3_2', in: 256, out: 256, poolAfter: true },
  { scope: 'vggish/conv4/conv4_1', in: 256, out: 512, poolAfter: false },
  { scope: 'vggish/conv4/conv4_2', in: 512, out: 512, poolAfter: true },
];

const FCS = [
  { scope: 'vggish/fc1/fc1_1', in: 6 * 4 * 512, out: 4096, relu: true },
  { scope: 'vggish/fc1/fc1_2', in: 4096, out: 4096, relu: true },
  { scope: 'vggish/fc2', in: 4096, out: VGGISH_EMBEDDING_SIZE, relu: false },
] as const;

/** name -> shape of every VGGish variable, in checkpoint order (weights then biases per layer). */
export const VGGISH_VARIABLES: ReadonlyMap<string, readonly number[]> = new Map([
  ...CONVS.flatMap((c) => [
    [`${c.scope}/weights`, [3, 3, c.in, c.out]],
    [`${c.scope}/biases`, [c.out]],
  ] as Array<[string, number[]]>),
  ...FCS.flatMap((f) => [
    [`${f.scope}/weights`, [f.in, f.out]],
    [`${f.scope}/biases`, [f.out]],
  ] as Array<[string, number[]]>),
]);

export const VGGISH_PARAMETERS = [...VGGISH_VARIABLES.values()].reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);

export function vggishGraph(): ModelGraph {
  const layers: Layer[] = [];
  for (const c of CONVS) {
    layers.push({ op: 'conv2d', weights: `${c.scope}/weights`, bias: `${c.scope}/biases`, strides: [1, 1], padding: 'same', activation: 'relu' });
    if (c.poolAfter) layers.push({ op: 'maxPool', size: [2, 2], strides: [2, 2], padding: 'same' });
  }
  layers.push({ op: 'flatten' });
  for (const f of FCS) {
    layers.push({ op: 'dense', weights: `${f.scope}/weights`, bias: `${f.scope}/biases`, activation: f.relu ? 'relu' : 'none', ...(f.relu ? {} : { output: VGGISH_OUTPUT }) });
  }
  return { inputShape: [...VGGISH_INPUT_SHAPE], layers, outputs: [VGGISH_OUTPUT] };
}

/**
 * Checks a weight set against VGGISH_VARIABLES: every variable present with its
 * exact shape, nothing unknown (PCA tensors allowed). Errors name the tensor.
 */
export function validateVggishWeights(weights: Weights): void {
  for (const [name, t] of weights) {
    const expected = VGGISH_VARIABLES.get(name) ?? VGGISH_PCA_TENSORS[name];
    if (!expected) throw new EarshotError('MODEL_UNKNOWN_VARIABLE', `'${name}' is not a VGGish variable (expected names like vggish/conv1/weights)`, { tensor: name });
    if (t.shape.length !== expected.length || t.shape.some((d, i) => d !== expected[i])) {
      throw new EarshotError('MODEL_SHAPE_MISMATCH', `VGGish variable '${name}' has shape [${t.shape.join(',')}], expected [${expected.join(',')}]`, { tensor: name, actual: [...t.shape], expected: [...expected] });
    }
    const n = expected.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new EarshotError('MODEL_SHAPE_MISMATCH', `VGGish variable '${name}' holds ${t.data.length} values, shape [${expected.join(',')}] needs ${n}`, { tensor: name });
  }
  for (const name of VGGISH_VARIABLES.keys()) {
    if (!weights.has(name)) throw new EarshotError('MODEL_INVALID', `VGGish weights lack variable '${name}'`, { tensor: name });
  }
}
