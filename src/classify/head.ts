import { EarshotError } from '../errors.js';
import { type Blas, defaultBlas } from './blas.js';
import type { ClassifierHead } from './contracts.js';
import { checkParams, forward, type NetSpec, type Params } from './net.js';

/** Clips per forward call: bounds peak memory (~[chunk*T, 1024] float32 activations). */
const CHUNK = 500;

/** Inference wrapper (BN moving statistics, no dropout) shared by the daemon and batch eval. */
export function createHead(
  spec: NetSpec,
  params: Params,
  blas: Blas = defaultBlas(),
): ClassifierHead & { readonly spec: NetSpec; readonly params: Params; predictSync(x: Float32Array, clips: number): Float32Array } {
  checkParams(spec, params, 'classifier');
  let disposed = false;
  const predictSync = (x: Float32Array, clips: number): Float32Array => {
    if (disposed) throw new EarshotError('INPUT_INVALID', 'classifier head used after dispose()');
    const per = spec.timeSteps * spec.inputDim;
    if (x.length !== clips * per) throw new EarshotError('MODEL_SHAPE_MISMATCH', `classifier input has ${x.length} values, expected [${clips},${spec.timeSteps},${spec.inputDim}]`);
    const out = new Float32Array(clips * spec.classes);
    for (let s = 0; s < clips; s += CHUNK) {
      const n = Math.min(CHUNK, clips - s);
      const c = forward(blas, spec, params, x.subarray(s * per, (s + n) * per), n, { training: false, dropout: 0 });
      out.set(c.output, s * spec.classes);
    }
    return out;
  };
  return {
    modelType: spec.modelType,
    classes: spec.classes,
    timeSteps: spec.timeSteps,
    embeddingDim: spec.inputDim,
    spec,
    params,
    predictSync,
    predict: async (x, clips) => predictSync(x, clips),
    dispose() {
      disposed = true;
    },
  };
}
