export type { Patch } from './contracts.js';
export { KAISER_BEST, besselI0, kaiserBest, kaiserSincHalfWindow, type SincFilter } from './kaiser.js';
export {
  createStreamingResampler,
  kaiserBestKernel,
  makeResampleKernel,
  resample,
  resampleEngine,
  resampledLength,
  type ResampleEngine,
  type ResampleKernel,
  type ResampleOptions,
  type StreamingResampler,
} from './resample.js';
export { hertzToMel, linspace, melMatrix, sparseMel, type MelSpec, type SparseMel } from './mel.js';
export { createMagnitudeFft, type MagnitudeFft } from './fft.js';
export { createLogMelFrontend, frameCount, periodicHann, type LogMelFrontend, type LogMelOptions } from './logmel.js';
export {
  computeLogMelPatches,
  createStreamingPatcher,
  logMelPatches,
  patchCount,
  patchHopFrames,
  type LogMelPatches,
  type StreamingPatcher,
} from './patches.js';
