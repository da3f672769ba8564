import { Counter, Gauge, type Registry } from 'prom-client';

/** History writer metrics, registered in the daemon's registry (served on /metrics). */
export interface HistoryMetrics {
  readonly written: Counter<'kind'>;
  readonly dropped: Counter<never>;
  readonly writeErrors: Counter<'code'>;
  readonly queued: Gauge<never>;
  readonly retentionDeleted: Counter<'kind'>;
  readonly bytes: Gauge<never>;
}

export function createHistoryMetrics(registry: Registry): HistoryMetrics {
  const registers = [registry];
  return {
    written: new Counter({ name: 'earshot_history_written_total', help: 'Records committed to history', labelNames: ['kind'], registers }),
    dropped: new Counter({ name: 'earshot_history_dropped_total', help: 'Records dropped because the history queue was full', registers }),
    writeErrors: new Counter({ name: 'earshot_history_write_errors_total', help: 'Failed history transactions (retried), by error code', labelNames: ['code'], registers }),
    queued: new Gauge({ name: 'earshot_history_queued', help: 'Records waiting for the history writer', registers }),
    retentionDeleted: new Counter({ name: 'earshot_history_retention_deleted_total', help: 'Rows deleted by retention', labelNames: ['kind'], registers }),
    bytes: new Gauge({ name: 'earshot_history_bytes', help: 'History database file size after the last retention pass', registers }),
  };
}
