export type { Storage } from './contracts.js';
export { openStorage } from './open.js';
export { localStorage } from './local.js';
export { s3Storage, parseS3Url, isTransientS3Error, type S3Storage, type S3StorageOptions } from './s3.js';
export { withRetries, backoffMs, defaultRetryPolicy, type RetryPolicy } from './retry.js';
export { saveCheckpoint, loadLatestCheckpoint, type Checkpoint, type CheckpointOptions, type LoadOptions } from './checkpoints.js';
export { memoryStorage } from './memory.js';
