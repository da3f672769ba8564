export { crc32c, maskCrc, maskedCrc32c } from '../../util/crc32c.js';
export { ProtoError } from '../../util/protobuf.js';
export { decodeSequenceExample, encodeSequenceExample, type Feature, type SequenceExample } from './sequence-example.js';
export {
  readTFRecords,
  encodeTFRecords,
  writeTFRecordFile,
  DEFAULT_CHUNK_BYTES,
  DEFAULT_MAX_RECORD_BYTES,
  type TFRecord,
  type TFRecordReadOptions,
} from './tfrecord.js';
export {
  AUDIOSET_CLASSES,
  EMBEDDING_DIM,
  clipFromSequenceExample,
  parseAudioSetRecord,
  encodeAudioSetClip,
  listTFRecordKeys,
  readAudioSetClips,
  type ReadClipsOptions,
  type ReadProgress,
} from './audioset.js';
export { packClips, loadClips, type PackedClips, type PackOptions } from './pack.js';
export { openKongHdf5, openKongHdf5FromStorage, readKongHdf5, DECODABLE_FILTERS, type KongHdf5, type Hdf5Options } from './hdf5.js';
