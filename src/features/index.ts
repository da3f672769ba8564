export type { Patch } from './contracts.js';
export { createMagnitudeFft, type MagnitudeFft } from './fft.js';
export { besselI0, KAISER_BEST, kaiserBest, kaiserSincHalfWindow, type SincFilter } from './kaiser.js';
export { createLogMelFrontend, frameCount, type LogMelFrontend, type LogMelOptions, periodicHann } from './logmel.js';
export { hertzToMel, linspace, melMatrix, type MelSpec, type SparseMel, sparseMel } from './mel.js';
export { computeLogMelPatches, createStreamingPatcher, type LogMelPatches, logMelPatches, patchCount, patchHopFrames, type StreamingPatcher } from './patches.js';
export {
  createStreamingResampler,
  kaiserBestKernel,
  makeResampleKernel,
  resample,
  resampledLength,
  type ResampleEngine,
  resampleEngine,
  type ResampleKernel,
  type ResampleOptions,
  type StreamingResampler,
} from './resample.js';
