import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { EarshotError } from '../../errors.js';
import type { Activation, EmbeddingEngine, ModelGraph, Weights } from '../contracts.js';
import { inferShapes, layerWeightNames, outputShapes, size } from '../graph/shapes.js';
import { checkRunInput } from './run-input.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type Tensor = import('@tensorflow/tfjs-core').Tensor;
type Rank4 = import('@tensorflow/tfjs-core').Tensor4D;
type Rank2 = import('@tensorflow/tfjs-core').Tensor2D;

export type TfjsBackendName = 'tensorflow' | 'wasm' | 'cpu';
export type TfjsBackendPreference = 'auto' | TfjsBackendName;

export interface TfjsEngineOptions {
  readonly backend: TfjsBackendPreference;
  /** WASM threads; Node's WASM build is single-threaded, so this is best effort. */
  readonly threads: number;
}

export interface BackendProbe {
  readonly backend: TfjsBackendName;
  readonly available: boolean;
  readonly reason?: string;
}

const require = createRequire(import.meta.url);

/** The tfjs-node packages are optional and usually absent: import them by computed name so typecheck does not need them. */
async function importOptional(name: string): Promise<Tf> {
  return (await import(name)) as Tf;
}

interface Loaded {
  readonly tf: Tf;
  readonly backend: TfjsBackendName;
}

async function loadTensorflow(): Promise<Loaded> {
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      const tf = await importOptional(pkg);
      if (await tf.setBackend('tensorflow')) return { tf, backend: 'tensorflow' };
      errors.push(`${pkg}: backend 'tensorflow' did not initialise`);
    } catch (e) {
      errors.push(`${pkg}: ${firstLine(e)}`);
    }
  }
  throw new EarshotError('ENGINE_UNAVAILABLE', `TF.js tensorflow backend unavailable (${errors.join('; ')})`);
}

function firstLine(e: unknown): string {
  const code = (e as { code?: string }).code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') return 'not installed';
  return String((e as Error).message ?? e).split('\n')[0]!;
}

async function loadWasm(threads: number): Promise<Loaded> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!tf.engine().registry['wasm']) {
      // Only possible before the backend is first initialised; later engines reuse the instance.
      wasm.setWasmPaths(join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + '/');
      if (threads > 0) wasm.setThreadsCount(threads);
    }
    if (!(await tf.setBackend('wasm'))) throw new Error("backend 'wasm' did not initialise");
    return { tf, backend: 'wasm' };
  } catch (e) {
    throw new EarshotError('ENGINE_UNAVAILABLE', `TF.js wasm backend unavailable: ${firstLine(e)}`, {}, { cause: e });
  }
}

async function loadCpu(): Promise<Loaded> {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    if (!(await tf.setBackend('cpu'))) throw new Error("backend 'cpu' did not initialise");
    return { tf, backend: 'cpu' };
  } catch (e) {
    throw new EarshotError('ENGINE_UNAVAILABLE', `TF.js cpu backend unavailable: ${firstLine(e)}`, {}, { cause: e });
  }
}

async function loadBackend(pref: TfjsBackendPreference, threads: number): Promise<Loaded> {
  if (pref === 'tensorflow') return loadTensorflow();
  if (pref === 'wasm') return loadWasm(threads);
  if (pref === 'cpu') return loadCpu();
  const errors: string[] = [];
  for (const load of [loadTensorflow, () => loadWasm(threads), loadCpu]) {
    try {
      return await load();
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  throw new EarshotError('ENGINE_UNAVAILABLE', `no TF.js backend available: ${errors.join('; ')}`);
}

/** Which TF.js backends can load here, and why not. Initialises the backends it probes. */
export async function probeTfjsBackends(): Promise<BackendProbe[]> {
  const out: BackendProbe[] = [];
  for (const backend of ['tensorflow', 'wasm', 'cpu'] as const) {
    try {
      await loadBackend(backend, 0);
      out.push({ backend, available: true });
    } catch (e) {
      out.push({ backend, available: false, reason: (e as Error).message });
    }
  }
  return out;
}

/** hardswish is not one of TF.js's fused activations: it runs after the op (see `after`). */
const FUSED: Record<Activation, 'linear' | 'relu' | 'relu6' | 'sigmoid'> = { none: 'linear', relu: 'relu', relu6: 'relu6', sigmoid: 'sigmoid', hardswish: 'linear' };

export async function createTfjsEngine(graph: ModelGraph, weights: Weights, opts: TfjsEngineOptions): Promise<EmbeddingEngine> {
  const infos = inferShapes(graph, weights);
  const shapes = outputShapes(graph, infos);
  const { tf, backend } = await loadBackend(opts.backend, opts.threads);
  // tfjs has one global active backend. Switching to an already-initialised backend
  // completes synchronously inside setBackend, so selecting it right before a
  // synchronous tidy leaves no gap for another engine to switch in between.
  const select = (): void => {
    void tf.setBackend(backend).catch(() => false);
    if (tf.getBackend() !== backend) throw new EarshotError('ENGINE_UNAVAILABLE', `TF.js backend '${backend}' cannot be re-selected`);
  };
  select();
  const tensors = new Map<string, Tensor>();
  const used = new Set<string>();
  for (const l of graph.layers) for (const n of layerWeightNames(l)) used.add(n);
  for (const name of used) {
    const w = weights.get(name)!;
    tensors.set(name, tf.tensor(w.data, [...w.shape], 'float32'));
  }
  const t = (name: string | undefined) => (name === undefined ? undefined : tensors.get(name)!);
  let disposed = false;

  const after = (y: Tensor, a: Activation): Tensor => (a === 'hardswish' ? tf.div(tf.mul(y, tf.relu6(tf.add(y, 3))), 6) : y);
  /** Explicit pads: symmetric ones are TF.js's numeric pad; others pad first and convolve 'valid'. */
  const padded = (x: Tensor, l: { padding: 'same' | 'valid'; pads?: readonly [number, number, number, number] }): { x: Rank4; pad: 'same' | 'valid' | number } => {
    const p = l.pads;
    if (p === undefined) return { x: x as Rank4, pad: l.padding };
    if (p.every((v) => v === p[0])) return { x: x as Rank4, pad: p[0] };
    return { x: tf.pad(x as Rank4, [[0, 0], [p[0], p[2]], [p[1], p[3]], [0, 0]]), pad: 'valid' };
  };
  const forward = (x0: Tensor): Tensor[] => {
    let x = x0;
    const captured = new Map<string, Tensor>();
    for (const info of infos) {
      const l = info.layer;
      switch (l.op) {
        case 'conv2d':
          x = after(tf.fused.conv2d({ ...padded(x, l), filter: t(l.weights) as Rank4, strides: l.strides, bias: t(l.bias), activation: FUSED[l.activation] }), l.activation);
          break;
        case 'depthwiseConv2d':
          x = after(tf.fused.depthwiseConv2d({ ...padded(x, l), filter: t(l.weights) as Rank4, strides: l.strides, bias: t(l.bias), activation: FUSED[l.activation] }), l.activation);
          break;
        case 'squeezeExcite': {
          const c = x.shape[3]!;
          const pooled = tf.reshape(tf.mean(x, [1, 2]), [-1, c]) as Rank2;
          const hidden = tf.fused.matMul({ a: pooled, b: t(l.squeeze) as Rank2, bias: t(l.squeezeBias), activation: 'relu' });
          const scale = tf.fused.matMul({ a: hidden, b: t(l.excite) as Rank2, bias: t(l.exciteBias), activation: 'sigmoid' });
          x = tf.mul(x, tf.reshape(scale, [-1, 1, 1, c]));
          break;
        }
        case 'add':
          x = tf.add(x, captured.get(l.from)!);
          break;
        case 'maxPool':
          x = tf.maxPool(x as Rank4, l.size, l.strides, l.padding);
          break;
        case 'globalAvgPool':
          x = tf.mean(x, [1, 2]);
          break;
        case 'flatten':
          x = tf.reshape(x, [x.shape[0]!, -1]);
          break;
        case 'dense':
          x = after(tf.fused.matMul({ a: x as Rank2, b: t(l.weights) as Rank2, bias: t(l.bias), activation: FUSED[l.activation] }), l.activation);
          break;
      }
      if (l.output !== undefined) captured.set(l.output, x);
    }
    return graph.outputs.map((o) => captured.get(o)!);
  };

  return {
    kind: 'tfjs',
    backend,
    graph,
    async run(input, count) {
      const empty = checkRunInput('tfjs', disposed, graph, input, count);
      if (empty) return empty;
      select();
      const outs = tf.tidy(() => forward(tf.tensor(input, [count, ...graph.inputShape], 'float32')));
      try {
        const arrays = await Promise.all(outs.map((o) => o.data<'float32'>()));
        const result: Record<string, Float32Array> = {};
        graph.outputs.forEach((name, i) => {
          const a = arrays[i]!;
          if (a.length !== count * size(shapes[name]!)) throw new EarshotError('INTERNAL', `tfjs output ${name} has ${a.length} values, expected ${count * size(shapes[name]!)}`);
          result[name] = a.slice();
        });
        return result;
      } finally {
        tf.dispose(outs);
      }
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      tf.dispose([...tensors.values()]);
      tensors.clear();
    },
  };
}
