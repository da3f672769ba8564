export { YAMNET_CLASSES, YAMNET_EMBEDDING_DIM, YAMNET_LAYER_DEFS, YAMNET_MEL_BANDS,YAMNET_PATCH_FRAMES, yamnetConvSpecs, yamnetGraph, yamnetWeightShapes } from './graph.js';
export { importYamnet, type ImportYamnetOptions, type ImportYamnetResult,YAMNET_FRONTEND, YAMNET_LABELS_FILE } from './import.js';
export { padWaveformForYamnet } from './pad.js';
export { type ScoredLabel, type TaggedAudio,tagWaveform, topLabels } from './tag-audio.js';
export { loadYamnetTagger, YAMNET_INPUT_FRONTEND, type YamnetOutputs,type YamnetTagger } from './tagger.js';
export { type MappedTensor, mapYamnetWeights, type YamnetWeights } from './weights.js';
