import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { SourceState } from './protocol.js';

const STATES: readonly SourceState[] = ['starting', 'up', 'down', 'silent', 'quiet', 'ended', 'failed', 'stopped'];

/** One registry per daemon instance: two daemons in one process (tests) never share counters. */
export interface DaemonMetrics {
  readonly registry: Registry;
  readonly audioSeconds: Counter<'source'>;
  readonly patches: Counter<'source'>;
  readonly patchesDropped: Counter<'source'>;
  readonly nonFiniteSamples: Counter<'source'>;
  readonly inferenceSeconds: Histogram<'source'>;
  readonly queueDrops: Counter<never>;
  readonly subscribers: Gauge<never>;
  readonly sourceRestarts: Counter<'source'>;
  readonly events: Counter<'source'>;
  readonly messagesSent: Counter<never>;
  readonly stalledDisconnects: Counter<never>;
  /** 1 for the source's current state, 0 for the others. */
  readonly sourceState: Gauge<'source' | 'state'>;
}

/** Per-source series exist from the start (at 0), so rates and alerts work before the first event. */
export function initSourceMetrics(m: DaemonMetrics, source: string, state: SourceState): void {
  for (const c of [m.audioSeconds, m.patches, m.patchesDropped, m.nonFiniteSamples, m.sourceRestarts, m.events]) c.inc({ source }, 0);
  setSourceState(m, source, state);
}

export function setSourceState(m: DaemonMetrics, source: string, state: SourceState): void {
  for (const s of STATES) m.sourceState.set({ source, state: s }, s === state ? 1 : 0);
}

export function createMetrics(): DaemonMetrics {
  const registry = new Registry();
  const reg = [registry];
  // process memory, CPU, event-loop lag, GC (prom-client's standard process_* and nodejs_* series)
  // Lag sampled every 100 ms, not prom-client's 10 ms: with the finer timer a busy daemon fell behind a
  // fast client in the e2e stalled-client test (test/e2e/daemon.test.ts) on a loaded machine.
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  return {
    registry,
    audioSeconds: new Counter({ name: 'earshot_audio_seconds_total', help: 'Seconds of audio read, per source', labelNames: ['source'], registers: reg }),
    patches: new Counter({ name: 'earshot_patches_total', help: 'Log-mel patches tagged, per source', labelNames: ['source'], registers: reg }),
    patchesDropped: new Counter({ name: 'earshot_patches_dropped_total', help: 'Patches shed because the tagger fell behind a live source', labelNames: ['source'], registers: reg }),
    nonFiniteSamples: new Counter({ name: 'earshot_nonfinite_samples_total', help: 'NaN/Inf samples in decoded audio that were zeroed, per source', labelNames: ['source'], registers: reg }),
    inferenceSeconds: new Histogram({
      name: 'earshot_inference_seconds',
      help: 'Tagger latency per patch',
      labelNames: ['source'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: reg,
    }),
    queueDrops: new Counter({ name: 'earshot_queue_drops_total', help: 'scores/status messages dropped from full subscriber queues', registers: reg }),
    subscribers: new Gauge({ name: 'earshot_subscribers', help: 'Connected WebSocket clients', registers: reg }),
    sourceRestarts: new Counter({ name: 'earshot_source_restarts_total', help: 'Source restarts after failures', labelNames: ['source'], registers: reg }),
    events: new Counter({ name: 'earshot_events_total', help: 'event.start messages, per source', labelNames: ['source'], registers: reg }),
    messagesSent: new Counter({ name: 'earshot_messages_sent_total', help: 'Messages written to WebSocket clients', registers: reg }),
    stalledDisconnects: new Counter({ name: 'earshot_stalled_disconnects_total', help: 'Clients disconnected as stalled', registers: reg }),
    sourceState: new Gauge({ name: 'earshot_source_state', help: 'Source state: 1 for the current one, per source', labelNames: ['source', 'state'], registers: reg }),
  };
}
