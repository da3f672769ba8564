import { Observable, type OperatorFunction } from 'rxjs';

import type { TaggerSession } from '../classify/contracts.js';
import { toEarshotError } from '../errors.js';
import type { Patch } from '../features/contracts.js';

export interface TaggedPatch {
  readonly patch: Patch;
  readonly scores: Float32Array;
  readonly inferenceMs: number;
  /** Present when the session provides one (tagWithEmbedding). */
  readonly embedding?: Float32Array;
}

export interface TagOptions {
  /** Patches allowed to wait for the tagger; beyond it the oldest waiting one is shed. */
  readonly maxBacklog: number;
  readonly nowMs: () => number;
  readonly onDrop?: (p: Patch) => void;
  /** Called whenever the number of waiting + in-flight patches changes. */
  readonly onBacklog?: (n: number) => void;
}

/**
 * Runs the tagger on one patch at a time, in order. A live source cannot be slowed
 * down, so when the tagger falls behind, the oldest waiting patch is dropped (and
 * reported) instead of letting the queue and latency grow without bound. Sources
 * that can wait (paced files) watch `onBacklog` and never reach the bound.
 * Completion waits for the queue to drain; a tagger failure errors the stream.
 */
export function tagPatches(session: TaggerSession, opts: TagOptions): OperatorFunction<Patch, TaggedPatch> {
  return (patches) =>
    new Observable<TaggedPatch>((sub) => {
      const queue: Patch[] = [];
      let busy = false;
      let done = false;
      let failed = false;
      const report = () => opts.onBacklog?.(queue.length + (busy ? 1 : 0));
      const next = (): void => {
        if (busy || failed) return;
        const p = queue.shift();
        if (!p) {
          report();
          if (done) sub.complete();
          return;
        }
        busy = true;
        const t0 = opts.nowMs();
        const run = session.tagWithEmbedding ? session.tagWithEmbedding(p) : session.tag(p).then((scores) => ({ scores, embedding: undefined }));
        run.then(
          ({ scores, embedding }) => {
            busy = false;
            if (sub.closed) return;
            sub.next({ patch: p, scores, inferenceMs: opts.nowMs() - t0, ...(embedding ? { embedding } : {}) });
            next();
          },
          (e: unknown) => {
            failed = true;
            sub.error(toEarshotError(e, 'INTERNAL'));
          },
        );
        report();
      };
      const inner = patches.subscribe({
        next: (p) => {
          queue.push(p);
          while (queue.length > opts.maxBacklog) opts.onDrop?.(queue.shift()!);
          report();
          next();
        },
        error: (e: unknown) => sub.error(e),
        complete: () => {
          done = true;
          if (!busy && queue.length === 0) sub.complete();
        },
      });
      return () => inner.unsubscribe();
    });
}
