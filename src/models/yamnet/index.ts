export { yamnetGraph, yamnetWeightShapes, yamnetConvSpecs, YAMNET_LAYER_DEFS, YAMNET_CLASSES, YAMNET_EMBEDDING_DIM, YAMNET_PATCH_FRAMES, YAMNET_MEL_BANDS } from './graph.js';
export { importYamnet, YAMNET_FRONTEND, YAMNET_LABELS_FILE, type ImportYamnetOptions, type ImportYamnetResult } from './import.js';
export { mapYamnetWeights, type MappedTensor, type YamnetWeights } from './weights.js';
export { loadYamnetTagger, YAMNET_INPUT_FRONTEND, type YamnetTagger, type YamnetOutputs } from './tagger.js';
export { padWaveformForYamnet } from './pad.js';
export { tagWaveform, topLabels, type ScoredLabel, type TaggedAudio } from './tag-audio.js';
