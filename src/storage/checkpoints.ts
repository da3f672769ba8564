import { createHash } from 'node:crypto';

import { EarshotError, isEarshotError } from '../errors.js';
import type { Storage } from './contracts.js';
import { checkKey } from './keys.js';

/**
 * Checkpoints on any Storage:
 *   <prefix><name>/<file>...        the payload files, written first
 *   <prefix><name>/manifest.json    sizes + sha256 of every file, written after them
 *   <prefix>latest.json             pointer (name, seq, manifest sha256, last K names), written last
 * A crash at any point leaves latest.json on the previous complete checkpoint.
 * Loading verifies every byte against the manifest as well, because some S3
 * servers (s3rver) write objects in place and can keep a torn object after a
 * crash; a checkpoint that does not verify is skipped, never returned.
 */
export interface CheckpointOptions {
  /** Key prefix, '' or ending in '/'. Default 'checkpoints/'. */
  readonly prefix?: string;
  /** Checkpoints kept after a save (older ones and leftovers of crashed saves are deleted). Default 3. */
  readonly keep?: number;
}

export interface LoadOptions extends Pick<CheckpointOptions, 'prefix'> {
  /** Told about each checkpoint passed over and why (torn file, missing manifest...). */
  readonly onSkip?: (name: string, reason: string) => void;
}

export interface Checkpoint {
  readonly name: string;
  readonly seq: number;
  readonly files: Record<string, Buffer>;
}

interface Manifest {
  format: 'earshot-checkpoint/1';
  name: string;
  seq: number;
  files: Record<string, { bytes: number; sha256: string }>;
}

interface Pointer {
  format: 'earshot-checkpoint-pointer/1';
  name: string;
  seq: number;
  manifestSha256: string;
  history: string[];
}

const POINTER = 'latest.json';
const MANIFEST = 'manifest.json';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function prefixOf(opts: { prefix?: string | undefined }): string {
  const p = opts.prefix ?? 'checkpoints/';
  if (p !== '' && !p.endsWith('/')) throw new EarshotError('INPUT_INVALID', `checkpoint prefix ${JSON.stringify(p)} must be empty or end with '/'`);
  if (p !== '') checkKey(p.slice(0, -1), 'checkpoint prefix');
  return p;
}

function parseJson<T>(buf: Buffer, check: (v: Record<string, unknown>) => boolean): T | undefined {
  try {
    const v: unknown = JSON.parse(buf.toString('utf8'));
    return typeof v === 'object' && v !== null && check(v as Record<string, unknown>) ? (v as T) : undefined;
  } catch {
    return undefined;
  }
}

const isPointer = (v: Record<string, unknown>): boolean => v.format === 'earshot-checkpoint-pointer/1' && typeof v.name === 'string' && Number.isInteger(v.seq) && Array.isArray(v.history);
const isManifest = (v: Record<string, unknown>): boolean =>
  v.format === 'earshot-checkpoint/1' && typeof v.name === 'string' && Number.isInteger(v.seq) && typeof v.files === 'object' && v.files !== null;

async function readIfExists(storage: Storage, key: string): Promise<Buffer | undefined> {
  try {
    return await storage.read(key);
  } catch (e) {
    if (isEarshotError(e, 'DATA_NOT_FOUND')) return undefined;
    throw e;
  }
}

async function readPointer(storage: Storage, prefix: string): Promise<Pointer | undefined> {
  const buf = await readIfExists(storage, prefix + POINTER);
  return buf === undefined ? undefined : parseJson<Pointer>(buf, isPointer);
}

/** Names of checkpoint directories that have a manifest object, whatever its state. */
async function manifestNames(storage: Storage, prefix: string): Promise<string[]> {
  const names = new Set<string>();
  for (const k of await storage.list(prefix)) {
    const rest = k.slice(prefix.length).split('/');
    if (rest.length === 2 && rest[1] === MANIFEST) names.add(rest[0]!);
  }
  return [...names];
}

/** Loads and fully verifies one checkpoint; returns the reason it is unusable instead of throwing. */
async function tryLoad(storage: Storage, prefix: string, name: string, manifestSha?: string): Promise<Checkpoint | string> {
  const mbuf = await readIfExists(storage, `${prefix}${name}/${MANIFEST}`);
  if (mbuf === undefined) return 'manifest missing';
  if (manifestSha !== undefined && sha256(mbuf) !== manifestSha) return 'manifest does not match the pointer';
  const m = parseJson<Manifest>(mbuf, isManifest);
  if (m === undefined || m.name !== name) return 'manifest unreadable';
  const files: Record<string, Buffer> = {};
  for (const [file, want] of Object.entries(m.files)) {
    const b = await readIfExists(storage, `${prefix}${name}/${file}`);
    if (b === undefined) return `${file} missing`;
    if (b.length !== want.bytes || sha256(b) !== want.sha256) return `${file} has ${b.length} bytes not matching its manifest entry (${want.bytes} bytes, sha256 ${want.sha256.slice(0, 12)}…)`;
    files[file] = b;
  }
  return { name, seq: m.seq, files };
}

/** Parsable manifests by descending seq (unverified: only for numbering and history). */
async function scanManifests(storage: Storage, prefix: string): Promise<{ name: string; seq: number }[]> {
  const out: { name: string; seq: number }[] = [];
  for (const n of await manifestNames(storage, prefix)) {
    const b = await readIfExists(storage, `${prefix}${n}/${MANIFEST}`);
    const m = b && parseJson<Manifest>(b, isManifest);
    out.push({ name: n, seq: m ? m.seq : -1 });
  }
  return out.sort((a, b) => b.seq - a.seq);
}

export async function saveCheckpoint(storage: Storage, name: string, files: Record<string, Uint8Array>, opts: CheckpointOptions = {}): Promise<{ name: string; seq: number }> {
  const prefix = prefixOf(opts);
  const keep = opts.keep ?? 3;
  if (!NAME_RE.test(name) || name === POINTER) throw new EarshotError('INPUT_INVALID', `invalid checkpoint name ${JSON.stringify(name)}`, { name });
  if (!Number.isInteger(keep) || keep < 1) throw new EarshotError('INPUT_INVALID', `checkpoint keep must be a positive integer, got ${keep}`, { keep });
  const pointer = await readPointer(storage, prefix);
  if (pointer?.name === name) {
    throw new EarshotError('INPUT_INVALID', `checkpoint ${name} is the one ${storage.url}/${prefix}${POINTER} points at; save under a new name`, { name });
  }
  // Seq keeps increasing across crashes: it continues from the highest manifest, not just the pointer.
  const scanned = await scanManifests(storage, prefix);
  const seq = Math.max(pointer?.seq ?? 0, scanned[0]?.seq ?? 0) + 1;
  const manifest: Manifest = { format: 'earshot-checkpoint/1', name, seq, files: {} };
  for (const [file, data] of Object.entries(files)) {
    if (file === MANIFEST) throw new EarshotError('INPUT_INVALID', `checkpoint file name ${file} is reserved`, { file });
    checkKey(file, `checkpoint ${name}`);
    await storage.writeAtomic(`${prefix}${name}/${file}`, data);
    manifest.files[file] = { bytes: data.length, sha256: sha256(data) };
  }
  const mbuf = Buffer.from(JSON.stringify(manifest, null, 1));
  await storage.writeAtomic(`${prefix}${name}/${MANIFEST}`, mbuf);
  // Without a readable pointer, rebuild history from the manifests so older checkpoints survive pruning.
  const prior = pointer?.history ?? scanned.filter((m) => m.seq >= 0).map((m) => m.name);
  const history = [name, ...prior.filter((n) => n !== name)].slice(0, keep);
  const next: Pointer = { format: 'earshot-checkpoint-pointer/1', name, seq, manifestSha256: sha256(mbuf), history };
  await storage.writeAtomic(prefix + POINTER, Buffer.from(JSON.stringify(next, null, 1)));
  await prune(storage, prefix, new Set(history));
  return { name, seq };
}

/** Deletes every checkpoint directory not in `kept` (old ones and leftovers of crashed saves). Single writer assumed. */
async function prune(storage: Storage, prefix: string, kept: ReadonlySet<string>): Promise<void> {
  const doomed = (await storage.list(prefix)).filter((k) => {
    const rest = k.slice(prefix.length).split('/');
    return rest.length >= 2 && !kept.has(rest[0]!);
  });
  // Manifests go first so a crash mid-prune never leaves a manifest over missing files (harmless anyway: it would not verify).
  doomed.sort((a, b) => Number(b.endsWith(`/${MANIFEST}`)) - Number(a.endsWith(`/${MANIFEST}`)));
  for (const k of doomed) await storage.delete(k);
}

/**
 * The newest checkpoint that verifies completely: the pointer's, else the
 * older ones it lists, else (pointer missing or torn) any manifest by seq.
 * Undefined when there is none; DATA_CORRUPT when a pointer exists but none
 * of the checkpoints verifies.
 */
export async function loadLatestCheckpoint(storage: Storage, opts: LoadOptions = {}): Promise<Checkpoint | undefined> {
  const prefix = prefixOf(opts);
  const pointer = await readPointer(storage, prefix);
  const tried = new Set<string>();
  const reasons: string[] = [];
  const attempt = async (name: string, sha?: string): Promise<Checkpoint | undefined> => {
    if (tried.has(name)) return undefined;
    tried.add(name);
    const r = await tryLoad(storage, prefix, name, sha);
    if (typeof r !== 'string') return r;
    reasons.push(`${name}: ${r}`);
    opts.onSkip?.(name, r);
    return undefined;
  };
  if (pointer) {
    const first = await attempt(pointer.name, pointer.manifestSha256);
    if (first) return first;
    for (const n of pointer.history) {
      const c = NAME_RE.test(n) ? await attempt(n) : undefined;
      if (c) return c;
    }
  }
  for (const s of await scanManifests(storage, prefix)) {
    const c = await attempt(s.name);
    if (c) return c;
  }
  if (pointer) {
    throw new EarshotError('DATA_CORRUPT', `no checkpoint under ${storage.url}/${prefix} verifies: ${reasons.join('; ')}`, { url: storage.url, prefix, reasons });
  }
  return undefined;
}
