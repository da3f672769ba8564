import { Counter, Gauge, type Registry } from 'prom-client';

import type { LevelReading } from './contracts.js';

export interface LevelMetrics {
  readonly rmsDb: Gauge<'source'>;
  readonly loudness: Gauge<'source'>;
  readonly centroidHz: Gauge<'source'>;
  readonly flatness: Gauge<'source'>;
  /** Patches the minLevelDb gate kept from the tagger. */
  readonly quietSkipped: Counter<'source'>;
}

export function createLevelMetrics(registry: Registry): LevelMetrics {
  const registers = [registry];
  return {
    rmsDb: new Gauge({ name: 'earshot_level_dbfs', help: 'RMS level of the last hop in dBFS, per source', labelNames: ['source'], registers }),
    loudness: new Gauge({ name: 'earshot_loudness', help: 'meyda total loudness of the last hop, per source', labelNames: ['source'], registers }),
    centroidHz: new Gauge({ name: 'earshot_spectral_centroid_hz', help: 'Spectral centroid of the last hop in Hz, per source', labelNames: ['source'], registers }),
    flatness: new Gauge({ name: 'earshot_spectral_flatness', help: 'Spectral flatness of the last hop (0 tonal .. 1 noise), per source', labelNames: ['source'], registers }),
    quietSkipped: new Counter({ name: 'earshot_quiet_patches_skipped_total', help: 'Patches not tagged because the hop was below the source minLevelDb', labelNames: ['source'], registers }),
  };
}

export function observeLevels(m: LevelMetrics, r: LevelReading): void {
  const source = r.sourceId;
  m.rmsDb.set({ source }, r.rmsDb);
  m.loudness.set({ source }, r.loudness);
  m.centroidHz.set({ source }, r.centroidHz);
  m.flatness.set({ source }, r.flatness);
}
