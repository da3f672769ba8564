/**
 * Boundary: datasets and checkpoints -> storage (local directory or S3 prefix).
 *
 * Keys are '/'-separated relative paths. `read` returns a Buffer the caller owns.
 * `writeAtomic` never leaves a partial object visible under `key`: local writes go
 * to a temp file then rename; S3 PUT is atomic per object. Errors are
 * EarshotError STORAGE_FAILED / DATA_NOT_FOUND naming the URL.
 */
export interface Storage {
  /** e.g. file:///data/x or s3://bucket/prefix */
  readonly url: string;
  list(prefix?: string): Promise<string[]>;
  read(key: string): Promise<Buffer>;
  /** Byte range [start, end) for large files. */
  readRange(key: string, start: number, end: number): Promise<Buffer>;
  size(key: string): Promise<number>;
  exists(key: string): Promise<boolean>;
  writeAtomic(key: string, data: Buffer | Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
}
