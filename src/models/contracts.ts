/**
 * Boundary: patches -> embedding model (engine layer).
 *
 * Models are described engine-independently as a sequential layer graph (ModelGraph)
 * plus named float32 weight tensors in TF layouts (conv HWIO, depthwise HWC1,
 * dense [in, out]). Each engine (tfjs, onnx) compiles the same graph and weights,
 * so every engine computes the same function.
 *
 * Ownership: `run` takes a caller-owned Float32Array [count, ...inputShape] and
 * returns fresh Float32Arrays per output that the caller owns. Engines free
 * every tensor they create (tf.tidy/dispose; ORT tensors released) before
 * resolving. `dispose()` frees weights; a disposed engine rejects further calls.
 */
export type Activation = 'none' | 'relu' | 'relu6' | 'sigmoid' | 'hardswish';
export type Padding = 'same' | 'valid';
/** Explicit zero padding [top, left, bottom, right] (PyTorch-style symmetric pads); overrides `padding`. */
export type Pads = readonly [number, number, number, number];

export type Layer =
  | { op: 'conv2d'; weights: string; bias?: string; strides: [number, number]; padding: Padding; pads?: Pads; activation: Activation; output?: string }
  | { op: 'depthwiseConv2d'; weights: string; bias?: string; strides: [number, number]; padding: Padding; pads?: Pads; activation: Activation; output?: string }
  /**
   * Squeeze-excitation on an [H,W,C] input: s = sigmoid(relu(mean_hw(x) squeeze + b1) excite + b2),
   * output x * s per channel. Dense weights [C, S] and [S, C].
   */
  | { op: 'squeezeExcite'; squeeze: string; squeezeBias: string; excite: string; exciteBias: string; output?: string }
  /** Residual: adds the output of an earlier layer (named by its `output`) of the same shape. */
  | { op: 'add'; from: string; output?: string }
  | { op: 'maxPool'; size: [number, number]; strides: [number, number]; padding: Padding; output?: string }
  | { op: 'globalAvgPool'; output?: string }
  | { op: 'flatten'; output?: string }
  | { op: 'dense'; weights: string; bias?: string; activation: Activation; output?: string };

export interface ModelGraph {
  /** Per-example input shape in NHWC without the batch dim, e.g. [96, 64, 1]. */
  readonly inputShape: readonly number[];
  readonly layers: readonly Layer[];
  /** Output names in the order engines return them; each names a layer's `output`. */
  readonly outputs: readonly string[];
}

export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
}

export type Weights = ReadonlyMap<string, { readonly shape: readonly number[]; readonly data: Float32Array }>;

export type EngineKind = 'tfjs' | 'onnx';

export interface EmbeddingEngine {
  readonly kind: EngineKind;
  /** e.g. 'tensorflow', 'wasm', 'cpu' for tfjs; 'cpu' for onnx. */
  readonly backend: string;
  readonly graph: ModelGraph;
  run(input: Float32Array, count: number): Promise<Record<string, Float32Array>>;
  dispose(): Promise<void>;
}

/**
 * On-disk model directory: manifest.json + weights.bin (+ labels.csv, cache/).
 * weights.bin is the named tensors' LE data concatenated in manifest order (float32, or
 * float16 / int8 with per-channel scales for compact shipped models), 4-byte aligned.
 */
export interface ModelManifest {
  readonly format: 'earshot-model';
  readonly formatVersion: 1;
  readonly name: string; // 'vggish' | 'yamnet' | 'classifier' | user's
  readonly architecture: string; // 'vggish' | 'yamnet' | one of the classifier model types
  readonly version: string;
  /** A tensor's `dtype` is its stored form (float32 when absent; see weight-dtypes.ts); engines get float32. */
  readonly weights: { readonly file: string; readonly sha256: string; readonly tensors: ReadonlyArray<TensorSpec & { readonly offsetBytes: number; readonly dtype?: 'float32' | 'float16' | 'int8' }> };
  readonly input: TensorSpec;
  readonly outputs: readonly TensorSpec[];
  readonly labels?: { readonly file: string; readonly count: number };
  /** Frontend settings this model expects (merged over config.frontend). */
  readonly frontend?: Readonly<Record<string, number>>;
  /** Free-form: source file, licence, training config, data provenance. */
  readonly provenance?: Readonly<Record<string, unknown>>;
  /** Optional extra files (e.g. PCA params) relative to the directory. */
  readonly extras?: Readonly<Record<string, string>>;
}
