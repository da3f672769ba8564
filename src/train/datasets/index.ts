export { crc32c, maskCrc, maskedCrc32c } from '../../util/crc32c.js';
export { ProtoError } from '../../util/protobuf.js';
export {
  AUDIOSET_CLASSES,
  clipFromSequenceExample,
  EMBEDDING_DIM,
  encodeAudioSetClip,
  listTFRecordKeys,
  parseAudioSetRecord,
  readAudioSetClips,
  type ReadClipsOptions,
  type ReadProgress,
} from './audioset.js';
export { DECODABLE_FILTERS, type Hdf5Options, type KongHdf5, openKongHdf5, openKongHdf5FromStorage, readKongHdf5 } from './hdf5.js';
export { loadClips, packClips, type PackedClips, type PackOptions } from './pack.js';
export { decodeSequenceExample, encodeSequenceExample, type Feature, type SequenceExample } from './sequence-example.js';
export { DEFAULT_CHUNK_BYTES, DEFAULT_MAX_RECORD_BYTES, encodeTFRecords, readTFRecords, type TFRecord, type TFRecordReadOptions, writeTFRecordFile } from './tfrecord.js';
