import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { EarshotError, isEarshotError } from '../../errors.js';
import { type ImportResult,importVggish } from '../import/vggish.js';
import { type Digests, download, type DownloadResult } from './download.js';

/**
 * `earshot models fetch vggish`: downloads the published TF1 checkpoint and PCA
 * params, verifies them, and imports them into a model directory.
 *
 * The published vggish_model.ckpt is a single-file V1 checkpoint (vggish_slim
 * restores it with Saver(write_version=1)). Google publishes no checksums. The
 * built-in digests below apply only to the official base URL:
 * - vggish_model.ckpt: md5 recorded by cosmir/openmic-2018 (openmic/vggish/params.py);
 *   its sha256 is not known to us, so pass --sha256 to pin it.
 * - vggish_pca_params.npz: the same third-party md5, and the sha256 of a copy whose md5 matched it.
 * Any other base URL needs --sha256/--pca-sha256 or `<file>.sha256` sidecars served beside the files.
 */
export const OFFICIAL_BASE_URL = 'https://storage.googleapis.com/audioset';
export const CKPT_FILE = 'vggish_model.ckpt';
export const PCA_FILE_NAME = 'vggish_pca_params.npz';

export const OFFICIAL_DIGESTS: Readonly<Record<string, Digests>> = {
  [CKPT_FILE]: { md5: 'd1c7011e6366aa34176bb05c705e31a8' },
  [PCA_FILE_NAME]: { md5: 'c80cae691033abe7c7ecd11ea39fc834', sha256: '4d878af3e306defbfb37095365aa7e5a6cecb86bad13e859e626151c4e6a8b9d' },
};

export interface FetchOptions {
  readonly baseUrl: string;
  readonly outDir: string;
  /** Where downloads (and .part files) live; default `<outDir>.download`. */
  readonly downloadDir?: string;
  readonly sha256?: string;
  readonly pcaSha256?: string;
  readonly keepDownloads?: boolean;
  readonly onProgress?: (file: string, doneBytes: number, totalBytes: number | undefined) => void;
  readonly onImportProgress?: (doneBytes: number, totalBytes: number) => void;
  readonly fetchImpl?: typeof fetch;
  readonly signal?: AbortSignal;
}

export interface FetchResult extends ImportResult {
  readonly downloads: Readonly<Record<string, DownloadResult>>;
}

function urlFor(base: string, file: string): string {
  return `${base.replace(/\/+$/, '')}/${file}`;
}

/** Reads `<url>.sha256` (sha256sum format or a bare digest); undefined when the server has none. */
export async function sidecarSha256(url: string, fetchImpl: typeof fetch = fetch): Promise<string | undefined> {
  let res: Response;
  try {
    res = await fetchImpl(`${url}.sha256`);
  } catch (e) {
    throw new EarshotError('DOWNLOAD_FAILED', `${url}.sha256: request failed: ${(e as Error).message}`, { url });
  }
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new EarshotError('DOWNLOAD_FAILED', `${url}.sha256: HTTP ${res.status}`, { url });
  }
  const m = /^([0-9a-fA-F]{64})\b/.exec((await res.text()).trim());
  if (!m) throw new EarshotError('DOWNLOAD_FAILED', `${url}.sha256 is not a sha256 digest`, { url });
  return m[1]!.toLowerCase();
}

/** Expected digests: flag, sidecar and (official URL only) built-ins; all that are known must match. */
export async function expectedDigests(baseUrl: string, file: string, flag: string | undefined, fetchImpl?: typeof fetch): Promise<Digests> {
  const url = urlFor(baseUrl, file);
  const official = baseUrl.replace(/\/+$/, '') === OFFICIAL_BASE_URL;
  const builtin = official ? OFFICIAL_DIGESTS[file] ?? {} : {};
  // Google serves no sidecars: probing them would only cost a request (and an error when offline).
  const sidecar = flag || official ? undefined : await sidecarSha256(url, fetchImpl);
  const flagName = file === PCA_FILE_NAME ? '--pca-sha256' : '--sha256';
  const sha = flag?.toLowerCase() ?? sidecar ?? builtin.sha256;
  if (flag && builtin.sha256 && flag.toLowerCase() !== builtin.sha256) {
    throw new EarshotError('MODEL_CHECKSUM_MISMATCH', `${flagName} ${flag} for ${file} contradicts the known digest ${builtin.sha256}`, { file });
  }
  const d: Digests = { ...(sha ? { sha256: sha } : {}), ...(builtin.md5 ? { md5: builtin.md5 } : {}) };
  if (!d.sha256 && !d.md5) {
    throw new EarshotError('DOWNLOAD_FAILED', `no checksum known for ${url}: pass ${flagName} <hex>, or serve ${file}.sha256 beside it`, { url });
  }
  return d;
}

/** A request that never reached a server (offline, DNS, refused): say so, and how to import files got elsewhere. */
function unreachableHint(e: unknown, outDir: string): unknown {
  if (!isEarshotError(e, 'DOWNLOAD_FAILED') || !/request failed/.test(e.message)) return e;
  const cause = (e.cause as { cause?: { code?: string } } | undefined)?.cause?.code;
  return new EarshotError(
    'DOWNLOAD_FAILED',
    `${e.message}${cause ? ` (${cause})` : ''}: the network looks unreachable from here. With the files from elsewhere, import them: earshot models import vggish <${CKPT_FILE}> --pca <${PCA_FILE_NAME}> --out ${outDir}`,
    { ...e.details },
    { cause: e },
  );
}

export async function fetchVggish(opts: FetchOptions): Promise<FetchResult> {
  const downloadDir = opts.downloadDir ?? `${resolve(opts.outDir)}.download`;
  mkdirSync(downloadDir, { recursive: true });
  mkdirSync(dirname(resolve(opts.outDir)), { recursive: true });
  const downloads: Record<string, DownloadResult> = {};
  try {
    for (const [file, flag] of [[PCA_FILE_NAME, opts.pcaSha256], [CKPT_FILE, opts.sha256]] as const) {
      const url = urlFor(opts.baseUrl, file);
      const expected = await expectedDigests(opts.baseUrl, file, flag, opts.fetchImpl);
      downloads[file] = await download({
        url,
        dest: join(downloadDir, file),
        expected,
        ...(opts.onProgress ? { onProgress: (d: number, t: number | undefined) => opts.onProgress!(file, d, t) } : {}),
        ...(opts.fetchImpl ? { fetchImpl: opts.fetchImpl } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    }
  } catch (e) {
    // Partial downloads (.part) stay for a resume; a directory with nothing in it does not.
    if (readdirSync(downloadDir).length === 0) rmSync(downloadDir, { recursive: true, force: true });
    throw unreachableHint(e, opts.outDir);
  }
  const r = importVggish({
    source: downloads[CKPT_FILE]!.path,
    outDir: opts.outDir,
    format: 'ckpt',
    pca: downloads[PCA_FILE_NAME]!.path,
    origin: urlFor(opts.baseUrl, CKPT_FILE),
    ...(opts.onImportProgress ? { onProgress: opts.onImportProgress } : {}),
  });
  if (!opts.keepDownloads) rmSync(downloadDir, { recursive: true, force: true });
  return { ...r, downloads };
}
