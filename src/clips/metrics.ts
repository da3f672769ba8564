import { Counter, Gauge, type Registry } from 'prom-client';

export interface ClipMetrics {
  readonly ringBytes: Gauge<'source'>;
  readonly open: Gauge<never>;
  readonly clips: Counter<'state'>;
  readonly dropped: Counter<'reason'>;
  readonly bytes: Counter<never>;
  readonly stored: Gauge<never>;
  readonly storedBytes: Gauge<never>;
  readonly deleted: Counter<'reason'>;
  readonly spoolBytes: Gauge<never>;
  readonly uploads: Counter<'result'>;
}

export function createClipMetrics(registry: Registry): ClipMetrics {
  const registers = [registry];
  return {
    ringBytes: new Gauge({ name: 'earshot_clip_ring_bytes', help: 'Bytes held by the clip ring buffer, per source', labelNames: ['source'], registers }),
    open: new Gauge({ name: 'earshot_clips_open', help: 'Clips being encoded', registers }),
    clips: new Counter({ name: 'earshot_clips_total', help: 'Clips finished, by final state (done, failed)', labelNames: ['state'], registers }),
    dropped: new Counter({
      name: 'earshot_clips_dropped_total',
      help: 'Events that got no clip (or lost it), by reason (busy: clips.maxConcurrent open; speech: privacy.dropSpeech; spectrogram_busy/_failed: no PNG)',
      labelNames: ['reason'],
      registers,
    }),
    bytes: new Counter({ name: 'earshot_clips_bytes_total', help: 'Bytes of clip files written', registers }),
    stored: new Gauge({ name: 'earshot_clips_stored', help: 'Finished clips kept in clips.dir', registers }),
    storedBytes: new Gauge({ name: 'earshot_clips_stored_bytes', help: 'Bytes of the finished clips kept (audio, sidecar, spectrogram)', registers }),
    spoolBytes: new Gauge({ name: 'earshot_clips_spool_bytes', help: 'Bytes of finished clips waiting for upload to clips.storageUrl', registers }),
    uploads: new Counter({ name: 'earshot_clips_uploads_total', help: 'Clip uploads to clips.storageUrl by result (ok, failed attempt)', labelNames: ['result'], registers }),
    deleted: new Counter({ name: 'earshot_clips_deleted_total', help: 'Clips deleted by retention, by reason (age, size)', labelNames: ['reason'], registers }),
  };
}
