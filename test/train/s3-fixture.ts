import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { Storage } from '../../src/storage/contracts.js';
import { openStorage } from '../../src/storage/index.js';
import type { S3TestServer } from '../helpers/s3.js';
import { sharedPath } from '../helpers/shared.js';

/**
 * Uploads 20 real bal_train TFRecords to the test server and returns the `earshot train`
 * arguments (small head, batch 32, checkpoint every iteration, data and output on S3).
 */
export async function s3TrainSetup(s3: S3TestServer, dir: string): Promise<{ store: Storage; args: string[] }> {
  const store = openStorage(s3.url(), s3.config);
  const src = sharedPath('data/audioset/features/bal_train');
  for (const f of readdirSync(src)
    .filter((n) => n.endsWith('.tfrecord'))
    .sort()
    .slice(0, 20))
    await store.writeAtomic(`bal_train/${f}`, readFileSync(join(src, f)));
  const cfg = join(dir, 'config.json');
  writeFileSync(cfg, JSON.stringify({ train: { hiddenUnits: 16 }, storage: { s3: s3.config.s3 } }));
  const args = [
    '-c',
    cfg,
    'train',
    '--data',
    s3.url('bal_train'),
    '--labels',
    sharedPath('data/audioset/metadata/class_labels_indices.csv'),
    '--batch-size',
    '32',
    '--checkpoint-every',
    '1',
    '--out',
    s3.url('model'),
  ];
  return { store, args };
}
