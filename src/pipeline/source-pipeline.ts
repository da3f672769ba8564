import { defer, filter, map, Observable, type OperatorFunction, type SchedulerLike, type Subscription, tap } from 'rxjs';

import type { AudioChunk } from '../audio/contracts.js';
import type { Tagger } from '../classify/contracts.js';
import type { EventsConfig } from '../config/sections/events.js';
import type { FrontendConfig } from '../config/sections/frontend.js';
import type { SupervisionConfig } from '../config/sections/sources.js';
import { EarshotError, type ErrorCode, toEarshotError } from '../errors.js';
import type { LabelEvent, ScoreFrame } from '../events/contracts.js';
import { EventStage } from '../events/stage.js';
import { resolveThresholds } from '../events/thresholds.js';
import type { Patch } from '../features/contracts.js';
import { patchEndSeconds } from '../features/timing.js';
import type { LevelReading, SpectrogramFrames } from '../levels/contracts.js';
import { LevelMeter } from '../levels/meter.js';
import { SpectrogramTap } from '../levels/spectrogram.js';
import type { SourceStatus } from '../server/protocol.js';
import type { SourceOutput } from './contracts.js';
import { type AudioSource, Backlog } from './flow.js';
import { restartDelaySeconds, SilenceTracker } from './silence.js';
import { tagPatches } from './tag-operator.js';

export { patchEndSeconds, windowEndSeconds } from '../features/timing.js';
export type { SourceOutput } from './contracts.js';

export interface SourceRuntime {
  readonly id: string;
  /** Live (shed patches when behind) or paced (wait for the tagger); opened afresh on each attempt. */
  readonly source: AudioSource;
  readonly tagger: Tagger;
  /** config.frontend with the tagger's overrides applied. */
  readonly frontend: FrontendConfig;
}

export interface PipelineOptions {
  readonly supervision: SupervisionConfig;
  readonly events: EventsConfig;
  /** Restart timers and wall clock (ms); tests may pass a virtual scheduler. */
  readonly scheduler: SchedulerLike;
  readonly patches: (cfg: FrontendConfig) => OperatorFunction<AudioChunk, Patch>;
  /** Seconds per tagger call, for the latency histogram. */
  readonly onInference?: (seconds: number) => void;
  /** Live sources shed the oldest waiting patch beyond this backlog (default 64, ~30 s of YAMNet hops); see flow.ts. */
  readonly maxBacklogPatches?: number;
  readonly onDrop?: (p: Patch) => void;
  /** NaN/±Inf samples a decoder zeroed (scores stay numbers; the count goes to /metrics). */
  readonly onNonFinite?: (samples: number) => void;
  /**
   * Every decoded chunk before the frontend, with the stream seconds its attempt
   * starts at (stream time of the chunk = base + startSample / rate). Must not keep
   * `chunk.samples` (the frontend owns it) and must not block (clips copy into a ring).
   */
  readonly onAudio?: (chunk: AudioChunk, baseSeconds: number) => void;
  /**
   * Patches whose last hop is quieter than this (RMS dBFS) are not tagged: the source
   * reports `quiet` (open events end) and silence costs no model time. Undefined = no gate.
   */
  readonly minLevelDb?: number;
  /** Called per patch the gate skipped (a metric). */
  readonly onQuietSkip?: () => void;
}

export interface SourcePipeline {
  /** Each subscription runs the source once; one at a time (the daemon subscribes once). */
  readonly output: Observable<SourceOutput>;
  /** SIGHUP: new thresholds from the next frame on. */
  setEventsConfig(cfg: EventsConfig): void;
  /** Graceful stop: closes open events, reports `stopped`, completes `output`. */
  stop(): void;
}

/**
 * Failures a restart cannot fix: the same file, config or input fails the same way
 * every time. The source reports `failed` and completes instead of retrying forever
 * (devices, streams and engines may come back, so their errors stay retried).
 */
export const PERMANENT_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'AUDIO_FILE_NOT_FOUND',
  'AUDIO_FILE_EMPTY',
  'AUDIO_HEADER_INVALID',
  'AUDIO_CODEC_UNSUPPORTED',
  'CONFIG_INVALID',
  'INPUT_INVALID',
]);

/**
 * One supervised source: open -> log-mel patches -> tagger session -> smoothing ->
 * frames, with event segmentation over the frames. Failures restart the whole
 * chain (fresh device, frontend and session) after capped exponential backoff and
 * are reported as `down` then `up` with the gap; stream time keeps increasing
 * across restarts (the gap's wall time is added), so event times stay ordered.
 */
export function createSourcePipeline(spec: SourceRuntime, opts: PipelineOptions): SourcePipeline {
  // Config errors surface here, synchronously: inside the stream they would only be
  // retried (with backoff) as if the source had failed, and never heal.
  resolveThresholds(opts.events, spec.tagger.labels);
  let eventsCfg = opts.events;
  /** The running subscription's events stage and stop; undefined when not subscribed. */
  let active: { readonly stage: EventStage; readonly stop: () => void } | undefined;
  const backend = spec.tagger.backend;
  const sup = opts.supervision;
  const fe = spec.frontend;

  const output = new Observable<SourceOutput>((sub) => {
    if (active) {
      sub.error(new EarshotError('INTERNAL', `source ${spec.id}: its pipeline is already running; subscribe to output once`));
      return;
    }
    const stage = new EventStage(eventsCfg, fe.patchHopSeconds);
    const meter = new LevelMeter(spec.id, fe.patchHopSeconds);
    let quiet = false;
    let inner: Subscription | undefined;
    let timer: Subscription | undefined;
    let failures = 0;
    let restarts = 0;
    let base = 0;
    let lastEnd = 0;
    let lastAudioMs: number | undefined;
    let downSinceMs: number | undefined;
    const now = () => opts.scheduler.now();
    const status = (state: SourceStatus['state'], extra: Partial<SourceStatus> & { retryInSeconds?: number } = {}) =>
      sub.next({ kind: 'status', status: { sourceId: spec.id, state, restarts, backend, ...extra } });
    const flush = () => {
      for (const event of stage.flush()) sub.next({ kind: 'event', event });
    };

    const onChunk = (first: boolean, chunk: AudioChunk, silence: SilenceTracker) => {
      if (first) {
        failures = 0;
        if (downSinceMs !== undefined) {
          const gap = (now() - downSinceMs) / 1000;
          base = lastEnd + gap;
          downSinceMs = undefined;
          status('up', { gapSeconds: gap });
        } else status('up');
      }
      lastAudioMs = now();
      if (chunk.nonFiniteSamples) opts.onNonFinite?.(chunk.nonFiniteSamples);
      opts.onAudio?.(chunk, base);
      for (const levels of meter.push(chunk, base)) sub.next({ kind: 'levels', levels });
      const chunkSeconds = chunk.samples.length / chunk.sampleRateHz;
      lastEnd = base + chunk.startSample / chunk.sampleRateHz + chunkSeconds;
      sub.next({ kind: 'audio', streamSeconds: lastEnd, chunkSeconds });
      const s = silence.push(chunk);
      if (s) status(s === 'silent' ? 'silent' : 'up');
    };

    const attempt = () => {
      const session = spec.tagger.openSession();
      const silence = new SilenceTracker(sup.silenceDbfs, sup.silenceSeconds);
      let first = true;
      const offset = () => base;
      const spectrogram = new SpectrogramTap(spec.id, fe.stftHopSeconds, offset);
      // The gate reads the hop the chunk just completed: patches come out synchronously after it.
      const loudEnough = () => {
        const min = opts.minLevelDb;
        const level = meter.last?.rmsDb;
        const isQuiet = min !== undefined && level !== undefined && level < min;
        if (isQuiet !== quiet) {
          quiet = isQuiet;
          if (quiet) flush();
          status(quiet ? 'quiet' : 'up');
        }
        if (quiet) opts.onQuietSkip?.();
        return !quiet;
      };
      const backlog = new Backlog();
      inner = defer(() => backlog.open(spec.source))
        .pipe(
          tap((chunk) => {
            onChunk(first, chunk, silence);
            first = false;
          }),
          (spec.tagger.patches ?? opts.patches)(fe),
          tap((p) => {
            const frames = spectrogram.push(p);
            if (frames) sub.next({ kind: 'spectrogram', frames });
          }),
          filter(() => loudEnough()),
          tagPatches(session, { maxBacklog: opts.maxBacklogPatches ?? 64, nowMs: now, onBacklog: (n) => backlog.set(n), ...(opts.onDrop ? { onDrop: opts.onDrop } : {}) }),
          tap(({ inferenceMs }) => opts.onInference?.(inferenceMs / 1000)),
          map(({ patch, scores, embedding }): ScoreFrame => {
            // clipped to the audio read: a window never describes time after the stream's end
            const end = Math.min(offset() + patchEndSeconds(patch, fe), lastEnd);
            return { sourceId: spec.id, startSeconds: offset() + patch.startSeconds, tSeconds: end, scores, labels: spec.tagger.labels, ...(embedding ? { embedding } : {}) };
          }),
          tap((raw) => {
            const { frame, events } = stage.push(raw);
            sub.next({ kind: 'frame', frame });
            for (const event of events) sub.next({ kind: 'event', event });
          }),
        )
        .subscribe({
          error: (e: unknown) => {
            flush();
            const err = toEarshotError(e, 'STREAM_FAILED');
            if (PERMANENT_ERRORS.has(err.code)) {
              status('failed', { error: { code: err.code, message: err.message } });
              sub.complete();
              return;
            }
            downSinceMs ??= lastAudioMs ?? now();
            const delay = restartDelaySeconds(failures++, sup.restartInitialSeconds, sup.restartMaxSeconds);
            restarts++;
            status('down', { error: { code: err.code, message: err.message }, retryInSeconds: delay });
            timer = opts.scheduler.schedule(() => attempt(), delay * 1000);
          },
          complete: () => {
            flush();
            status('ended');
            sub.complete();
          },
        });
    };

    const stop = () => {
      inner?.unsubscribe();
      timer?.unsubscribe();
      flush();
      status('stopped');
      sub.complete();
    };
    active = { stage, stop };
    status('starting');
    attempt();
    return () => {
      active = undefined;
      inner?.unsubscribe();
      timer?.unsubscribe();
    };
  });

  return {
    output,
    setEventsConfig(cfg) {
      resolveThresholds(cfg, spec.tagger.labels);
      eventsCfg = cfg;
      active?.stage.setConfig(cfg);
    },
    stop() {
      active?.stop();
    },
  };
}
