import { Observable } from 'rxjs';

import type { AudioChunk, DecodedAudio } from '../audio/contracts.js';
import { toEarshotError } from '../errors.js';
import type { AudioSource, FlowGate } from './flow.js';

/**
 * A file read "as fast as the pipeline can go" (`--fast`). A push source emitting
 * a whole file (or a loop, forever) from microtasks would queue every chunk in front
 * of the tagger and starve sockets and signal handlers; this one emits the next
 * chunk only when `gate` opens, so memory stays bounded and the daemon responsive.
 */
export function pacedAudio(decode: () => Promise<DecodedAudio>, opts: { readonly loop: boolean; readonly chunkSeconds?: number }): AudioSource {
  return { mode: 'paced', open: (gate) => pacedChunks(decode, opts, gate) };
}

function pacedChunks(decode: () => Promise<DecodedAudio>, opts: { readonly loop: boolean; readonly chunkSeconds?: number }, gate: FlowGate): Observable<AudioChunk> {
  return new Observable<AudioChunk>((sub) => {
    let cancelled = false;
    void (async () => {
      const audio = await decode();
      const n = audio.samples.length;
      const chunk = Math.max(1, Math.round(audio.sampleRateHz * (opts.chunkSeconds ?? 0.1)));
      for (let start = 0; !cancelled && (opts.loop || start < n); start += chunk) {
        await gate.wait();
        if (cancelled) return;
        const first = start === 0 && audio.nonFiniteSamples ? { nonFiniteSamples: audio.nonFiniteSamples } : {};
        sub.next({ samples: slice(audio.samples, start, chunk, opts.loop), sampleRateHz: audio.sampleRateHz, startSample: start, ...first });
      }
      if (!cancelled) sub.complete();
    })().catch((e: unknown) => {
      if (!cancelled) sub.error(toEarshotError(e, 'AUDIO_DECODE_FAILED'));
    });
    return () => {
      cancelled = true;
    };
  });
}

function slice(samples: Float32Array, from: number, n: number, loop: boolean): Float32Array {
  if (!loop) return samples.slice(from, Math.min(samples.length, from + n));
  const out = new Float32Array(n);
  for (let filled = 0, pos = from % samples.length; filled < n; pos = 0) {
    const take = Math.min(n - filled, samples.length - pos);
    out.set(samples.subarray(pos, pos + take), filled);
    filled += take;
  }
  return out;
}
