export type { AudioChunk, DecodedAudio } from './contracts.js';
export { decodeAudioFile, type DecodeOptions } from './decode.js';
export { fileSource, chunkAudio, sliceChunk, type FileSourceOptions } from './file-source.js';
export { micSource, micFailureToError, type MicSourceOptions, type RecorderName } from './mic.js';
export { rawPcmSource, type RawPcmOptions } from './raw.js';
export { urlSource, ffmpegUrlArgs, urlFailureToError, type UrlSourceOptions } from './url.js';
export { createS16leDecoder, averageInterleaved, averagePlanar, INT16_SCALE, type S16leDecoder } from './pcm.js';
export { parseWav, isRiffWave, decodeWavSamples, type WavLayout } from './wav.js';
export { pcmFromProcess, collectProcess, stderrTail, defaultSpawn, type SpawnLike, type ProcessFailure } from './process.js';
