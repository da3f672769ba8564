import assert from 'node:assert/strict';
import { test } from 'node:test';

import protobuf from 'protobufjs';

import { localStorage } from '../../src/storage/local.js';
import {
  decodeSequenceExample,
  encodeAudioSetClip,
  encodeSequenceExample,
  encodeTFRecords,
  type Feature,
  parseAudioSetRecord,
  readTFRecords,
  writeTFRecordFile,
} from '../../src/train/datasets/index.js';
import { rng } from '../helpers/rng.js';
import { tempDir } from '../helpers/tmp.js';

const se = {
  context: new Map<string, Feature>([
    ['video_id', { kind: 'bytes', value: [Buffer.from('abcDEF_-123')] }],
    ['start_time_seconds', { kind: 'float', value: [30] }],
    ['labels', { kind: 'int64', value: [0, 137, 526, 2 ** 40, -3] }],
    ['empty', { kind: 'none' }],
  ]),
  featureLists: new Map<string, Feature[]>([
    [
      'audio_embedding',
      [
        { kind: 'bytes', value: [new Uint8Array(128).fill(9)] },
        { kind: 'bytes', value: [new Uint8Array(128).fill(200)] },
      ],
    ],
    ['floats', [{ kind: 'float', value: [1.5, -2.25] }]],
  ]),
};

for (const packed of [true, false]) {
  test(`SequenceExample round-trips through the hand-written codec (${packed ? 'packed' : 'unpacked'} lists)`, () => {
    const back = decodeSequenceExample(encodeSequenceExample(se, { packed }));
    assert.deepEqual(
      [...back.context].map(([k, f]) => [k, f.kind, 'value' in f ? f.value.map((v) => (v instanceof Uint8Array ? [...v] : v)) : []]),
      [...se.context].map(([k, f]) => [k, f.kind, 'value' in f ? f.value.map((v) => (v instanceof Uint8Array ? [...v] : v)) : []]),
    );
    const emb = back.featureLists.get('audio_embedding')!;
    assert.equal(emb.length, 2);
    assert.deepEqual(
      emb.map((f) => (f.kind === 'bytes' ? f.value[0]![0] : -1)),
      [9, 200],
    );
    assert.deepEqual(back.featureLists.get('floats'), [{ kind: 'float', value: [1.5, -2.25] }]);
  });
}

/** tf.train.SequenceExample schema for protobufjs: an independent encoder/decoder to cross-check ours. */
const schema = {
  nested: {
    BytesList: { fields: { value: { rule: 'repeated', type: 'bytes', id: 1 } } },
    FloatList: { fields: { value: { rule: 'repeated', type: 'float', id: 1, options: { packed: true } } } },
    Int64List: { fields: { value: { rule: 'repeated', type: 'int64', id: 1, options: { packed: true } } } },
    Feature: {
      oneofs: { kind: { oneof: ['bytesList', 'floatList', 'int64List'] } },
      fields: { bytesList: { type: 'BytesList', id: 1 }, floatList: { type: 'FloatList', id: 2 }, int64List: { type: 'Int64List', id: 3 } },
    },
    Features: { fields: { feature: { keyType: 'string', type: 'Feature', id: 1 } } },
    FeatureList: { fields: { feature: { rule: 'repeated', type: 'Feature', id: 1 } } },
    FeatureLists: { fields: { featureList: { keyType: 'string', type: 'FeatureList', id: 1 } } },
    SequenceExample: { fields: { context: { type: 'Features', id: 1 }, featureLists: { type: 'FeatureLists', id: 2 } } },
  },
};
// protobufjs' INamespace typing has no map fields (keyType), though fromJSON accepts them.
const root = protobuf.Root.fromJSON(schema as unknown as protobuf.INamespace);
const SeqEx = root.lookupType('SequenceExample');

test('our decoder reads what protobufjs encodes, and protobufjs reads what we encode', () => {
  const r = rng(11);
  for (let trial = 0; trial < 50; trial++) {
    const labels = Array.from({ length: Math.floor(r() * 6) }, () => Math.floor(r() * 527));
    const secs = Math.floor(r() * 12);
    const frames = Array.from({ length: secs }, () => Uint8Array.from({ length: 128 }, () => Math.floor(r() * 256)));
    const start = Math.floor(r() * 300);
    const obj = {
      context: {
        feature: {
          video_id: { bytesList: { value: [Buffer.from(`vid${trial}`)] } },
          start_time_seconds: { floatList: { value: [start] } },
          end_time_seconds: { floatList: { value: [start + 10] } },
          labels: { int64List: { value: labels } },
        },
      },
      featureLists: { featureList: { audio_embedding: { feature: frames.map((f) => ({ bytesList: { value: [f] } })) } } },
    };
    const theirs = SeqEx.encode(SeqEx.fromObject(obj)).finish();
    const clip = parseAudioSetRecord(theirs, { url: 'mem', key: 'k', offset: 0 });
    assert.equal(clip.videoId, `vid${trial}`);
    assert.equal(clip.startSeconds, start);
    assert.deepEqual(clip.labels, labels);
    assert.equal(clip.seconds, secs);
    frames.forEach((f, i) => assert.deepEqual(clip.embeddings.subarray(i * 128, (i + 1) * 128), f));

    const ours = encodeAudioSetClip(clip, { packed: trial % 2 === 0 });
    const dec = SeqEx.toObject(SeqEx.decode(ours), { longs: Number, bytes: Array }) as typeof obj;
    assert.deepEqual(dec.context.feature.labels.int64List.value ?? [], labels);
    assert.equal(dec.context.feature.start_time_seconds.floatList.value[0], start);
    assert.equal((dec.featureLists.featureList.audio_embedding?.feature ?? []).length, secs);
  }
});

test('TFRecord writer and chunked reader agree at every chunk size', async () => {
  const st = localStorage(tempDir('tfr'));
  const r = rng(3);
  const payloads = Array.from({ length: 20 }, (_, i) => Uint8Array.from({ length: i === 5 ? 0 : Math.floor(r() * 3000) }, () => Math.floor(r() * 256)));
  await writeTFRecordFile(st, 'a/b.tfrecord', payloads);
  const body = encodeTFRecords(payloads);
  assert.equal(await st.size('a/b.tfrecord'), body.length);
  for (const chunkBytes of [1, 7, 12, 13, 1000, 4096, 1 << 20]) {
    const got: Uint8Array[] = [];
    const offsets: number[] = [];
    for await (const rec of readTFRecords(st, 'a/b.tfrecord', { chunkBytes })) {
      got.push(Uint8Array.from(rec.payload));
      offsets.push(rec.offset);
    }
    assert.equal(got.length, payloads.length, `chunkBytes ${chunkBytes}`);
    got.forEach((g, i) => assert.deepEqual(g, payloads[i]));
    let off = 0;
    payloads.forEach((p, i) => {
      assert.equal(offsets[i], off);
      off += 16 + p.length;
    });
  }
  // An empty file is zero records, not an error.
  await st.writeAtomic('empty.tfrecord', new Uint8Array(0));
  const none: unknown[] = [];
  for await (const rec of readTFRecords(st, 'empty.tfrecord')) none.push(rec);
  assert.equal(none.length, 0);
});
