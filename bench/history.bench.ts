// History store: insert rate, keyword search latency over N segments, brute-force --like.
// Sizes: HISTORY_BENCH_SEGMENTS (default 1,000,000) segments with top-5 labels for the keyword
// search; the --like matrix is held in memory (rows x dim int8), HISTORY_BENCH_LIKE_1024 rows of
// YAMNet's 1024-d (default 250,000: 256 MB) and 1,000,000 rows of 128-d (VGGish).
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { SegmentRecord } from '../src/history/contracts.js';
import { codeNorm, quantize, topCosine } from '../src/history/embedding.js';
import { SqliteHistoryStore } from '../src/history/sqlite.js';
import { rng } from '../test/helpers/rng.js';
import type { BenchResult } from './run.js';

const LABELS = Array.from({ length: 521 }, (_, i) => ({ labelId: `/m/l${i}`, label: `Label ${i}` }));

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! * 100) / 100;
}

function segments(r: () => number, from: number, n: number, emb?: ReturnType<typeof quantize>): SegmentRecord[] {
  const out: SegmentRecord[] = [];
  for (let i = from; i < from + n; i++) {
    // Zipf-like label popularity, as real audio (Speech, Music dominate).
    const top = Array.from({ length: 5 }, (_, k) => ({ ...LABELS[Math.floor(521 * r() ** 3)]!, score: Math.round((1 - k * 0.15) * r() * 1e4) / 1e4 }));
    out.push({
      stream: { kind: 'source', name: `mic${i % 4}` },
      startSeconds: i * 0.96,
      endSeconds: i * 0.96 + 0.96,
      wallMs: 1.7e12 + i * 960,
      model: 'yamnet',
      top,
      ...(emb ? { embedding: emb } : {}),
    });
  }
  return out;
}

export async function run(): Promise<BenchResult> {
  const n = Number(process.env.HISTORY_BENCH_SEGMENTS ?? 1_000_000);
  const dir = mkdtempSync(join(tmpdir(), 'earshot-bench-history-'));
  const r = rng(1);
  try {
    // 1. Inserts with 1024-d int8 embeddings (what the daemon writes), batches of 2000.
    const withEmb = new SqliteHistoryStore(join(dir, 'emb.sqlite'));
    const emb = quantize(Float32Array.from({ length: 1024 }, () => r() - 0.5));
    const embRows = 100_000;
    let t0 = performance.now();
    for (let i = 0; i < embRows; i += 2000) await withEmb.write({ segments: segments(r, i, 2000, emb), events: [] });
    const insertEmbPerS = Math.round(embRows / ((performance.now() - t0) / 1000));
    const bytesPerSegment = Math.round(statSync(join(dir, 'emb.sqlite')).size / embRows);
    await withEmb.close();

    // 2. n segments (labels only) for the keyword search.
    const store = new SqliteHistoryStore(join(dir, 'kw.sqlite'));
    t0 = performance.now();
    for (let i = 0; i < n; i += 5000) await store.write({ segments: segments(r, i, Math.min(5000, n - i)), events: [] });
    const insertPerS = Math.round(n / ((performance.now() - t0) / 1000));
    // A query covering a branch of 8 labels, popular and rare ones, top 20.
    const lat: number[] = [];
    const latFiltered: number[] = [];
    for (let q = 0; q < 200; q++) {
      const ids = Array.from({ length: 8 }, () => LABELS[Math.floor(521 * r())]!.labelId);
      let t = performance.now();
      await store.searchLabels({ labelIds: ids, minScore: 0.1, limit: 20 });
      lat.push(performance.now() - t);
      t = performance.now();
      await store.searchLabels({ labelIds: ids, minScore: 0.1, limit: 20, source: 'mic1', sinceMs: 1.7e12 + n * 480 });
      latFiltered.push(performance.now() - t);
    }
    await store.close();

    // 3. Brute-force cosine over an in-memory int8 matrix.
    const like = (rows: number, dim: number) => {
      const codes = new Int8Array(rows * dim);
      for (let i = 0; i < codes.length; i++) codes[i] = ((i * 2654435761) >>> 24) - 128;
      const norms = new Float32Array(rows);
      for (let i = 0; i < rows; i++) norms[i] = codeNorm(codes.subarray(i * dim, (i + 1) * dim));
      const q = quantize(Float32Array.from({ length: dim }, () => r() - 0.5)).q;
      const times: number[] = [];
      for (let k = 0; k < 5; k++) {
        const t = performance.now();
        topCosine(q, codes, norms, rows, 20);
        times.push(performance.now() - t);
      }
      return { rows, dim, medianMs: pct(times, 50), maxMs: pct(times, 100) };
    };
    const like1024 = like(Number(process.env.HISTORY_BENCH_LIKE_1024 ?? 250_000), 1024);
    const like128 = like(1_000_000, 128);
    return {
      insertSegmentsPerSecondWithEmbeddings: insertEmbPerS,
      bytesPerSegmentWithEmbedding: bytesPerSegment,
      insertSegmentsPerSecondLabelsOnly: insertPerS,
      keywordSegments: n,
      keywordSearchMs: { p50: pct(lat, 50), p99: pct(lat, 99) },
      keywordSearchFilteredMs: { p50: pct(latFiltered, 50), p99: pct(latFiltered, 99) },
      like1024,
      like128,
      like1024PerMillionMsEstimate: Math.round((like1024.medianMs * 1_000_000) / like1024.rows),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
