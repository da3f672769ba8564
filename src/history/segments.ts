import type { LabelInfo } from '../classify/contracts.js';
import { topK } from '../classify/top-k.js';
import type { ScoredLabel, SegmentRecord, StreamRef } from './contracts.js';
import { quantize } from './embedding.js';

export interface PoolOptions {
  readonly segmentSeconds: number;
  readonly topK: number;
  readonly storeEmbeddings: boolean;
  readonly model: string;
}

/** Top-k labels of a score vector, highest first. */
export function topLabels(scores: Float32Array, labels: readonly LabelInfo[], k: number): ScoredLabel[] {
  return topK(scores, k).map((i) => ({ labelId: labels[i]!.id, label: labels[i]!.name, score: Math.round(scores[i]! * 1e4) / 1e4 }));
}

/**
 * Pools consecutive tagger frames (one per hop: 0.48 s YAMNet, 0.96 s VGGish) into
 * stored segments of about `segmentSeconds`: per label the max score (a short sound
 * in one hop still ranks), the mean embedding. The live recorder and `earshot index`
 * both use it, so live and archive segments compare.
 */
export class SegmentPooler {
  private start = 0;
  private end = 0;
  private wallMs: number | null = null;
  private frames = 0;
  private max: Float32Array | undefined;
  private emb: Float32Array | undefined;
  private labels: readonly LabelInfo[] = [];

  constructor(
    private readonly stream: StreamRef,
    private readonly opts: PoolOptions,
  ) {}

  /** One frame covering (startSeconds, endSeconds]; returns a segment when one is complete. */
  private dropEmb = false;

  push(f: {
    startSeconds: number;
    endSeconds: number;
    scores: Float32Array;
    labels: readonly LabelInfo[];
    embedding?: Float32Array | undefined;
    wallMs: number | null;
    dropEmbedding?: boolean;
  }): SegmentRecord | undefined {
    // privacy.dropSpeech: one speech frame and the whole segment keeps no embedding.
    if (f.dropEmbedding) this.dropEmb = true;
    if (this.frames === 0) {
      this.start = f.startSeconds;
      this.wallMs = f.wallMs;
      this.labels = f.labels;
      this.max = Float32Array.from(f.scores);
      this.emb = f.embedding && this.opts.storeEmbeddings ? Float32Array.from(f.embedding) : undefined;
    } else {
      const m = this.max!;
      for (let i = 0; i < m.length; i++) if (f.scores[i]! > m[i]!) m[i] = f.scores[i]!;
      if (this.emb && f.embedding) for (let i = 0; i < this.emb.length; i++) this.emb[i]! += f.embedding[i]!;
    }
    this.end = f.endSeconds;
    this.frames++;
    return this.end - this.start >= this.opts.segmentSeconds - 1e-6 ? this.flush() : undefined;
  }

  /** The partial segment (end of stream), if any. */
  flush(): SegmentRecord | undefined {
    if (this.frames === 0) return undefined;
    let embedding;
    if (this.emb && !this.dropEmb) {
      for (let i = 0; i < this.emb.length; i++) this.emb[i]! /= this.frames;
      embedding = quantize(this.emb);
    }
    const seg: SegmentRecord = {
      stream: this.stream,
      startSeconds: Math.round(this.start * 1e6) / 1e6,
      endSeconds: Math.round(this.end * 1e6) / 1e6,
      wallMs: this.wallMs,
      model: this.opts.model,
      top: topLabels(this.max!, this.labels, this.opts.topK),
      ...(embedding ? { embedding } : {}),
    };
    this.frames = 0;
    this.max = undefined;
    this.emb = undefined;
    this.dropEmb = false;
    return seg;
  }
}
