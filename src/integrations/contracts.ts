/**
 * Boundary: pipeline outputs -> integrations (MQTT, Home Assistant discovery, webhooks).
 *
 * The daemon hands every SourceOutput to `Integrations.tap` on the event loop. Nothing
 * here blocks or awaits there: events go into a bounded in-memory queue (oldest dropped
 * beyond the bound, counted) mirrored in the history outbox through the writer thread
 * (so a restart sends what the broker or receiver never took), ON/OFF states are last-value-wins, `top` is throttled and
 * dropped while the broker is away. Network I/O is mqtt.js's, asynchronous. Payloads are
 * fresh strings built from the event (the pipeline's objects are never kept or mutated).
 *
 * Event ids: `<run>/<source>:<label index>:<seq>`, the same id history stores; a start and
 * its end share the id and differ in `type`, so (id, type) identifies one message.
 */
import type { AudioChunk } from '../audio/contracts.js';
import type { SourceOutput } from '../pipeline/contracts.js';

export interface EventMessage {
  readonly id: string;
  readonly type: 'start' | 'end';
  readonly source: string;
  readonly label: string;
  readonly labelId: string;
  /** start: the onset score; end: the peak over the event. */
  readonly score: number;
  /** Stream seconds. */
  readonly startSeconds: number;
  readonly endSeconds: number | null;
  /** Wall clock of the onset / offset, ISO 8601. */
  readonly time: string;
  /** Recorded clip, when clips are on. */
  readonly clip?: string;
}

export interface IntegrationHealth {
  readonly mqtt?: {
    readonly state: 'connecting' | 'connected' | 'disconnected' | 'stopped';
    readonly queued: number;
    readonly lastError: string | null;
  };
  readonly webhooks?: readonly { readonly url: string; readonly queued: number }[];
}

export interface Integrations {
  /** One source's outputs; never waits. */
  tap(sourceId: string, o: SourceOutput): void;
  /** Every decoded chunk of a source (for the level topic); never waits, keeps nothing. */
  audio(sourceId: string, chunk: AudioChunk): void;
  health(): IntegrationHealth;
  /** Publishes `offline`, hands over what the broker acknowledges within the budget, disconnects. */
  stop(): Promise<void>;
}
