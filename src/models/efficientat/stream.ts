import { Observable, type OperatorFunction } from 'rxjs';

import type { AudioChunk } from '../../audio/contracts.js';
import type { Patch } from '../../features/contracts.js';
import type { KaldiMelFrontend } from '../../features/kaldi-mel.js';
import { createStreamingResampler, type StreamingResampler } from '../../features/resample.js';
import type { ContextWindow } from './tag-audio.js';

/**
 * The live counterpart of tagWindows: audio chunks in, one "patch" per hop out, holding
 * the EfficientAT log-mel [melBands, frames] of the last `windowSeconds` of audio
 * (zero-padded on the left until that much has arrived). Resampling streams (its output
 * does not depend on chunking), so every window equals the batch path's window.
 * Ownership: each patch's data is freshly allocated and handed to the consumer.
 * The ring of recent samples is bounded by the window length.
 */
export function contextWindowPatches(frontend: KaldiMelFrontend, ctx: ContextWindow): OperatorFunction<AudioChunk, Patch> {
  const rate = frontend.params.sampleRateHz;
  const win = Math.round(ctx.windowSeconds * rate);
  const hop = Math.round(ctx.hopSeconds * rate);
  return (chunks) =>
    new Observable<Patch>((sub) => {
      let resampler: StreamingResampler | undefined;
      let t0 = 0; // stream seconds of the first sample
      const ring = new Float32Array(win); // last `win` samples, oldest first
      let total = 0; // model-rate samples received
      let nextEnd = hop;
      let index = 0;
      const emit = (end: number) => {
        const { data, frames } = frontend.compute(ring);
        sub.next({ data, index: index++, startSeconds: t0 + (end - win) / rate, frames, bands: frontend.params.melBands });
      };
      const feed = (x: Float64Array) => {
        let off = 0;
        while (off < x.length) {
          // Take samples up to the next hop end, then score the window ending there.
          const n = Math.min(x.length - off, nextEnd - total);
          ring.copyWithin(0, n);
          for (let i = 0; i < n; i++) ring[win - n + i] = x[off + i]!;
          off += n;
          total += n;
          if (total === nextEnd) {
            emit(total);
            nextEnd += hop;
          }
        }
      };
      const inner = chunks.subscribe({
        next: (c) => {
          try {
            if (!resampler) {
              resampler = createStreamingResampler(c.sampleRateHz, rate);
              t0 = c.startSample / c.sampleRateHz;
            }
            feed(resampler.push(c.samples));
          } catch (e) {
            sub.error(e);
          }
        },
        error: (e: unknown) => sub.error(e),
        complete: () => {
          if (resampler) feed(resampler.end());
          // A last partial hop, as tag's per-hop output has.
          if (total > 0 && total > nextEnd - hop) emit(total);
          sub.complete();
        },
      });
      return () => inner.unsubscribe();
    });
}
