import type pg from 'pg';

import { type EmbeddingMatrix, type EmbeddingRow, extendMatrix } from './sqlite-embeddings.js';

/**
 * The PostgreSQL twin of EmbeddingCache: int8 embeddings of one dimension packed into
 * one matrix in this process for brute-force cosine (Debian 12 has no pgvector; see
 * docs/scale.md for what changes with it). Extended with rows above the last loaded
 * id; reloaded when the oldest rows are gone (retention dropped a partition). With
 * several writers an id below the last loaded one can commit late and is then missed
 * until the next reload (at most one per minute; see `maxAgeMs`).
 */
export class PgEmbeddingCache {
  private readonly byDim = new Map<number, { m: EmbeddingMatrix; lastId: number; firstId: number; loadedMs: number }>();

  constructor(
    private readonly pool: pg.Pool,
    private readonly maxAgeMs = 60_000,
  ) {}

  async matrix(dim: number): Promise<EmbeddingMatrix> {
    const minId = Number((await this.pool.query('SELECT coalesce(min(id), 0) AS v FROM segments')).rows[0].v);
    let c = this.byDim.get(dim);
    if (c && (minId > c.firstId || Date.now() - c.loadedMs > this.maxAgeMs)) c = undefined;
    const from = c?.lastId ?? 0;
    const add = (await this.pool.query('SELECT id, stream_id, emb_norm, emb FROM segments WHERE id > $1 AND length(emb) = $2 ORDER BY id', [from, dim])).rows as EmbeddingRow[];
    if (c && add.length === 0) return c.m;
    const m = extendMatrix(c?.m, add, dim);
    this.byDim.set(dim, { m, lastId: add.length ? add[add.length - 1]!.id : (c?.lastId ?? 0), firstId: c?.firstId ?? minId, loadedMs: c?.loadedMs ?? Date.now() });
    return m;
  }
}
