export { type Checkpoint, type CheckpointOptions, loadLatestCheckpoint, type LoadOptions, saveCheckpoint } from './checkpoints.js';
export type { Storage } from './contracts.js';
export { localStorage } from './local.js';
export { memoryStorage } from './memory.js';
export { openStorage } from './open.js';
export { backoffMs, defaultRetryPolicy, type RetryPolicy, withRetries } from './retry.js';
export { isTransientS3Error, parseS3Url, type S3Storage, s3Storage, type S3StorageOptions } from './s3.js';
