import { createHash } from 'node:crypto';

import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

import type { StorageConfig } from '../config/sections/storage.js';
import { EarshotError } from '../errors.js';
import type { Storage } from './contracts.js';
import { checkKey, checkPrefix, checkRange } from './keys.js';
import { compareKeys } from './local.js';
import { defaultRetryPolicy, type RetryPolicy, withRetries } from './retry.js';

export interface S3StorageOptions {
  readonly retry?: Partial<RetryPolicy>;
  /** Per-request socket timeouts, so a dead server is a retryable error instead of a hang. */
  readonly requestTimeoutMs?: number;
  readonly connectionTimeoutMs?: number;
  /** ListObjectsV2 MaxKeys (tests use small pages to exercise pagination). */
  readonly listPageSize?: number;
}

export interface S3Storage extends Storage {
  /** Closes pooled sockets; the storage is unusable afterwards. */
  close(): void;
}

/** Parses s3://bucket/prefix into the bucket and a key prefix that is '' or ends with '/'. */
export function parseS3Url(url: string): { bucket: string; base: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(url);
  const bucket = m?.[1] ?? '';
  if (!m || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new EarshotError('INPUT_INVALID', `invalid S3 URL ${url} (expected s3://bucket/prefix)`, { url });
  }
  const prefix = (m[2] ?? '').replace(/^\/+|\/+$/g, '');
  if (prefix !== '') checkKey(prefix, url);
  return { bucket, base: prefix === '' ? '' : `${prefix}/` };
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

function asSdk(e: unknown): SdkError {
  return typeof e === 'object' && e !== null ? (e as SdkError) : {};
}

function status(e: unknown): number | undefined {
  return asSdk(e).$metadata?.httpStatusCode;
}

function isNotFound(e: unknown): boolean {
  const n = asSdk(e).name;
  return n === 'NoSuchKey' || n === 'NotFound' || (status(e) === 404 && n !== 'NoSuchBucket');
}

const TRANSIENT_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET']);
const TRANSIENT_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'SlowDown', 'ServiceUnavailable', 'InternalError', 'ThrottlingException']);

/** Connection-level failures, 5xx and throttling are worth retrying; 4xx answers are final. */
export function isTransientS3Error(e: unknown): boolean {
  const s = status(e);
  if (s !== undefined && (s >= 500 || s === 429)) return true;
  const err = asSdk(e);
  if (err.code !== undefined && TRANSIENT_ERRNO.has(err.code)) return true;
  if (err.name !== undefined && TRANSIENT_NAMES.has(err.name)) return true;
  // Sockets dying mid-body surface as plain Errors from the stream layer.
  return s === undefined && /socket hang up|ECONNRESET|ECONNREFUSED|premature close|aborted|EPIPE|timed? ?out/i.test(err.message ?? '');
}

export function s3Storage(url: string, cfg: StorageConfig, opts: S3StorageOptions = {}): S3Storage {
  const { bucket, base } = parseS3Url(url);
  const shownUrl = url.replace(/\/+$/, '');
  const s3 = cfg.s3;
  const clientCfg: S3ClientConfig = {
    // We retry ourselves (bounded, capped backoff) so that every failure ends as one STORAGE_FAILED naming the key.
    maxAttempts: 1,
    // s3rver and radosgw reject or mangle the SDK's default CRC32 trailers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    forcePathStyle: s3.forcePathStyle,
    requestHandler: { requestTimeout: opts.requestTimeoutMs ?? 30_000, connectionTimeout: opts.connectionTimeoutMs ?? 5_000 },
    ...(s3.endpoint !== '' ? { endpoint: s3.endpoint } : {}),
    ...(s3.region !== '' ? { region: s3.region } : {}),
    // Empty keys fall through to the SDK's standard chain (AWS_ACCESS_KEY_ID, profiles, ...).
    ...(s3.accessKeyId !== '' ? { credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey } } : {}),
  };
  const client = new S3Client(clientCfg);
  const policy: RetryPolicy = { ...defaultRetryPolicy, ...opts.retry };

  const call = async <T>(op: string, key: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await withRetries(policy, isTransientS3Error, fn);
    } catch (e) {
      if (e instanceof EarshotError) throw e;
      if (isNotFound(e)) throw new EarshotError('DATA_NOT_FOUND', `${shownUrl}/${key} not found (${op})`, { url: shownUrl, key, op }, { cause: e });
      const err = asSdk(e);
      const what = [err.name, status(e), err.code, err.message].filter((x) => x !== undefined && x !== '').join(' ');
      throw new EarshotError('STORAGE_FAILED', `${op} ${shownUrl}/${key} failed: ${what}`, { url: shownUrl, key, op, status: status(e) }, { cause: e });
    }
  };

  const fetchBody = async (key: string, range?: [number, number]): Promise<Buffer> => {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: base + key, ...(range ? { Range: `bytes=${range[0]}-${range[1] - 1}` } : {}) }));
    const bytes = res.Body ? await res.Body.transformToByteArray() : new Uint8Array(0);
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // A server that ignores Range answers 200 with the whole object; cut it ourselves.
    if (range && res.ContentRange === undefined && buf.length > range[1] - range[0]) return buf.subarray(range[0], range[1]);
    return buf;
  };

  return {
    url: shownUrl,
    async list(prefix = '') {
      checkPrefix(prefix, shownUrl);
      return call('list', prefix, async () => {
        const keys: string[] = [];
        let token: string | undefined;
        do {
          const res = await client.send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: base + prefix,
              ...(token ? { ContinuationToken: token } : {}),
              ...(opts.listPageSize ? { MaxKeys: opts.listPageSize } : {}),
            }),
          );
          for (const o of res.Contents ?? []) if (o.Key !== undefined && !o.Key.endsWith('/')) keys.push(o.Key.slice(base.length));
          token = res.IsTruncated ? res.NextContinuationToken : undefined;
        } while (token);
        return keys.sort(compareKeys);
      });
    },
    async read(key) {
      checkKey(key, shownUrl);
      return call('read', key, () => fetchBody(key));
    },
    async readRange(key, start, end) {
      checkKey(key, shownUrl);
      checkRange(key, start, end, shownUrl);
      if (end === start) return Buffer.alloc(0);
      return call('readRange', key, async () => {
        try {
          return await fetchBody(key, [start, end]);
        } catch (e) {
          // Range starting at or past the end: same answer as the local backend, an empty read.
          if (status(e) === 416 || asSdk(e).name === 'InvalidRange') return Buffer.alloc(0);
          throw e;
        }
      });
    },
    async size(key) {
      checkKey(key, shownUrl);
      return call('size', key, async () => {
        const res = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: base + key }));
        return res.ContentLength ?? 0;
      });
    },
    async exists(key) {
      checkKey(key, shownUrl);
      return call('exists', key, async () => {
        try {
          await client.send(new HeadObjectCommand({ Bucket: bucket, Key: base + key }));
          return true;
        } catch (e) {
          if (isNotFound(e)) return false;
          throw e;
        }
      });
    },
    async writeAtomic(key, data) {
      checkKey(key, shownUrl);
      const body = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      // Content-MD5 makes S3/radosgw refuse a body truncated in transit instead of storing it.
      const md5 = createHash('md5').update(body).digest('base64');
      await call('writeAtomic', key, () => client.send(new PutObjectCommand({ Bucket: bucket, Key: base + key, Body: body, ContentLength: body.length, ContentMD5: md5 })));
    },
    async delete(key) {
      checkKey(key, shownUrl);
      await call('delete', key, () => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: base + key })));
    },
    close() {
      client.destroy();
    },
  };
}
