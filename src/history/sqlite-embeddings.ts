import type Database from 'better-sqlite3';

export interface EmbeddingMatrix {
  readonly rows: number;
  readonly codes: Int8Array;
  readonly norms: Float32Array;
  readonly ids: Float64Array;
  readonly streams: Int32Array;
}

/**
 * The int8 embeddings of one dimension packed into one matrix for brute-force cosine.
 * Loaded once and extended with rows newer than the last loaded id; rebuilt when the
 * oldest rows were deleted (retention, re-index), so deleted rows do not pile up.
 */
export class EmbeddingCache {
  private readonly byDim = new Map<number, { m: EmbeddingMatrix; lastId: number; firstId: number }>();

  constructor(private readonly db: Database.Database) {}

  matrix(dim: number): EmbeddingMatrix {
    const minId = (this.db.prepare('SELECT min(id) AS v FROM segments').get() as { v: number | null }).v ?? 0;
    let c = this.byDim.get(dim);
    if (c && minId > c.firstId) c = undefined;
    const from = c?.lastId ?? 0;
    const stmt = this.db.prepare('SELECT id, stream_id, emb_norm, emb FROM segments WHERE id > ? AND length(emb) = ? ORDER BY id');
    const add = stmt.all(from, dim) as EmbeddingRow[];
    if (c && add.length === 0) return c.m;
    const m = extendMatrix(c?.m, add, dim);
    const lastId = add.length ? add[add.length - 1]!.id : (c?.lastId ?? 0);
    this.byDim.set(dim, { m, lastId, firstId: c?.firstId ?? minId });
    return m;
  }
}

/** A row of int8 codes as both backends read it. */
export interface EmbeddingRow {
  readonly id: number;
  readonly stream_id: number;
  readonly emb_norm: number;
  readonly emb: Buffer;
}

/** `old` (if any) with `add` appended: fresh arrays, so a scan holding the old matrix is never torn. */
export function extendMatrix(old: EmbeddingMatrix | undefined, add: readonly EmbeddingRow[], dim: number): EmbeddingMatrix {
  const rows = (old?.rows ?? 0) + add.length;
  const codes = new Int8Array(rows * dim);
  const norms = new Float32Array(rows);
  const ids = new Float64Array(rows);
  const streams = new Int32Array(rows);
  if (old) {
    codes.set(old.codes.subarray(0, old.rows * dim));
    norms.set(old.norms.subarray(0, old.rows));
    ids.set(old.ids.subarray(0, old.rows));
    streams.set(old.streams.subarray(0, old.rows));
  }
  let r = old?.rows ?? 0;
  for (const a of add) {
    codes.set(new Int8Array(a.emb.buffer, a.emb.byteOffset, dim), r * dim);
    norms[r] = a.emb_norm;
    ids[r] = a.id;
    streams[r] = a.stream_id;
    r++;
  }
  return { rows, codes, norms, ids, streams };
}
