/**
 * Log-mel patches (VGGish "examples"): `patchFrames` consecutive log-mel frames every
 * round(patchHopSeconds / stftHopSeconds) frames, as vggish_input.waveform_to_examples
 * frames them (no padding: a signal shorter than one patch gives none).
 *
 * Batch and streaming run the same frame function on the same float64 16 kHz samples
 * (the streaming resampler equals the batch one), so streaming patches are
 * bit-identical to batch patches for any chunking.
 */
import { Observable, type OperatorFunction } from 'rxjs';

import type { AudioChunk } from '../audio/contracts.js';
import type { FrontendConfig } from '../config/sections/frontend.js';
import { EarshotError, toEarshotError } from '../errors.js';
import type { Patch } from './contracts.js';
import { createLogMelFrontend, frameCount, type LogMelFrontend } from './logmel.js';
import { createStreamingResampler, resample, type StreamingResampler } from './resample.js';
import { SlidingBuffer } from './sliding.js';

export interface LogMelPatches {
  /** count x frames x bands, row-major float32 */
  readonly data: Float32Array;
  readonly count: number;
  readonly frames: number;
  readonly bands: number;
}

/** Patch hop in frames, computed as vggish_input does: round(hopSeconds * (1 / stftHopSeconds)). */
export function patchHopFrames(cfg: FrontendConfig): number {
  const hop = Math.round(cfg.patchHopSeconds * (1 / cfg.stftHopSeconds));
  if (hop < 1) {
    throw new EarshotError('CONFIG_INVALID', `frontend.patchHopSeconds ${cfg.patchHopSeconds} is below one STFT hop`, {
      patchHopSeconds: cfg.patchHopSeconds,
    });
  }
  return hop;
}

export function patchCount(frames: number, patchFrames: number, hopFrames: number): number {
  return frameCount(frames, patchFrames, hopFrames);
}

function checkRate(hz: number): void {
  if (!Number.isFinite(hz) || hz <= 0) {
    throw new EarshotError('INPUT_INVALID', `audio sample rate must be positive, got ${hz}`, { sampleRateHz: hz });
  }
}

/** Whole-signal frontend: resample to cfg.sampleRateHz when needed, then log-mel patches. */
export function computeLogMelPatches(samples: Float32Array | Float64Array, sampleRateHz: number, cfg: FrontendConfig, frontend: LogMelFrontend = createLogMelFrontend(cfg)): LogMelPatches {
  checkRate(sampleRateHz);
  const x = resample(samples, sampleRateHz, cfg.sampleRateHz);
  const hopFrames = patchHopFrames(cfg);
  const { patchFrames } = cfg;
  const bands = frontend.bands;
  const count = patchCount(frameCount(x.length, frontend.windowSamples, frontend.hopSamples), patchFrames, hopFrames);
  const data = new Float32Array(count * patchFrames * bands);
  if (count === 0) return { data, count, frames: patchFrames, bands };
  if (hopFrames >= patchFrames) {
    for (let p = 0; p < count; p++) {
      frontend.computeFrames(x, p * hopFrames * frontend.hopSamples, patchFrames, data, p * patchFrames * bands);
    }
  } else {
    const used = (count - 1) * hopFrames + patchFrames;
    const all = new Float32Array(used * bands);
    frontend.computeFrames(x, 0, used, all, 0);
    for (let p = 0; p < count; p++) {
      data.set(all.subarray(p * hopFrames * bands, (p * hopFrames + patchFrames) * bands), p * patchFrames * bands);
    }
  }
  return { data, count, frames: patchFrames, bands };
}

/**
 * Incremental patcher: chunks in, finished patches out. Holds the resampler state,
 * the 16 kHz samples not yet consumed by a frame and the frames of the next patch.
 */
export interface StreamingPatcher {
  push(chunk: AudioChunk): Patch[];
  /**
   * Samples already at the frontend rate, for callers that resample and pad themselves
   * (YAMNet's whole-file padding is counted after resampling). Not mixed with push().
   */
  pushAtFrontendRate(samples: Float64Array): Patch[];
  end(): Patch[];
}

export function createStreamingPatcher(cfg: FrontendConfig): StreamingPatcher {
  const fe = createLogMelFrontend(cfg);
  const hopFrames = patchHopFrames(cfg);
  const { patchFrames } = cfg;
  const { bands, windowSamples: win, hopSamples: hop } = fe;
  let resampler: StreamingResampler | undefined;
  let srIn = 0;
  let originSeconds = 0;
  let expectedStart = 0;
  // 16 kHz samples and log-mel frames, each kept from the first one a later step needs.
  const samples = new SlidingBuffer((n) => new Float64Array(n), 16384);
  const frames = new SlidingBuffer((n) => new Float32Array(n), patchFrames * 2, bands);
  let nextPatch = 0;

  function addSamples(y: Float64Array): void {
    samples.dropBefore(frames.end * hop);
    samples.append(y);
    const available = frameCount(samples.end, win, hop) - frames.end;
    if (available <= 0) return;
    frames.dropBefore(nextPatch * hopFrames);
    const out = frames.reserve(available);
    fe.computeFrames(samples.data, frames.end * hop - samples.base, available, out, frames.length * bands);
    frames.commit(available);
  }

  function takePatches(): Patch[] {
    const out: Patch[] = [];
    for (;;) {
      const first = nextPatch * hopFrames;
      // Frames before frames.base were dropped only once no patch could need them.
      if (first + patchFrames > frames.end) break;
      const data = frames.data.slice((first - frames.base) * bands, (first - frames.base + patchFrames) * bands);
      out.push({ data, index: nextPatch, startSeconds: originSeconds + (first * hop) / fe.sampleRateHz, frames: patchFrames, bands });
      nextPatch++;
    }
    return out;
  }

  return {
    push(chunk) {
      if (resampler === undefined) {
        checkRate(chunk.sampleRateHz);
        srIn = chunk.sampleRateHz;
        originSeconds = chunk.startSample / srIn;
        expectedStart = chunk.startSample;
        resampler = createStreamingResampler(srIn, fe.sampleRateHz);
      } else if (chunk.sampleRateHz !== srIn) {
        throw new EarshotError('INPUT_INVALID', `audio chunk at ${chunk.sampleRateHz} Hz in a ${srIn} Hz stream`, {
          sampleRateHz: chunk.sampleRateHz,
          streamRateHz: srIn,
        });
      }
      if (chunk.startSample !== expectedStart) {
        throw new EarshotError('INPUT_INVALID', `audio chunk starts at sample ${chunk.startSample}, expected ${expectedStart} (gap or overlap)`, {
          startSample: chunk.startSample,
          expected: expectedStart,
        });
      }
      expectedStart += chunk.samples.length;
      addSamples(resampler.push(chunk.samples));
      return takePatches();
    },
    pushAtFrontendRate(y) {
      if (resampler !== undefined) throw new EarshotError('INPUT_INVALID', 'pushAtFrontendRate after push(): a stream is fed one way');
      addSamples(y);
      return takePatches();
    },
    end() {
      if (resampler === undefined) return [];
      addSamples(resampler.end());
      return takePatches();
    },
  };
}

/** RxJS operator: AudioChunk stream -> Patch stream (one patcher per subscription). */
export function logMelPatches(cfg: FrontendConfig): OperatorFunction<AudioChunk, Patch> {
  return (source) =>
    new Observable<Patch>((subscriber) => {
      let patcher: StreamingPatcher;
      try {
        patcher = createStreamingPatcher(cfg);
      } catch (e) {
        subscriber.error(toEarshotError(e));
        return undefined;
      }
      const emit = (run: () => Patch[]): boolean => {
        try {
          for (const p of run()) subscriber.next(p);
          return true;
        } catch (e) {
          subscriber.error(toEarshotError(e, 'STREAM_FAILED'));
          return false;
        }
      };
      return source.subscribe({
        next: (chunk) => void emit(() => patcher.push(chunk)),
        error: (e: unknown) => subscriber.error(toEarshotError(e, 'STREAM_FAILED')),
        complete: () => {
          if (emit(() => patcher.end())) subscriber.complete();
        },
      });
    });
}
