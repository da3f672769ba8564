import type { Registry } from 'prom-client';
import type { SchedulerLike } from 'rxjs';

import type { Tagger } from '../classify/contracts.js';
import type { Config } from '../config/schema.js';
import type { ScoreFrame } from '../events/contracts.js';
import type { SourceBeat } from '../fleet/contracts.js';
import { FleetEdge } from '../fleet/edge.js';
import { siteOf } from '../fleet/wire.js';
import type { HistoryStore, OutboxStore } from '../history/contracts.js';
import { historyRoutes } from '../history/http.js';
import { keywordIndexFor } from '../history/keywords.js';
import { createHistoryMetrics, type HistoryMetrics } from '../history/metrics.js';
import { PostgresHistoryStore, redactUrl } from '../history/postgres.js';
import { type RecordSink, SourceRecorder } from '../history/recorder.js';
import type { SqliteStoreOptions } from '../history/sqlite.js';
import { SqliteHistoryStore } from '../history/sqlite.js';
import { WorkerSink } from '../history/worker-client.js';
import { HistoryWriter } from '../history/writer.js';
import type { HttpRoute } from '../server/server.js';
import type { SourceOutput } from './source-pipeline.js';

export interface HistoryDeps {
  readonly path: string;
  /** Sent in fleet heartbeats. */
  readonly version?: string;
  /** Test hook: e.g. max_page_count to make a small "full disk". */
  readonly storeOptions?: SqliteStoreOptions;
  /** Where clips go (the CLI resolves clips.dir); absent = no clips. */
  readonly clipsDir?: string;
  /** learn.examplesDir resolved (feedback on AudioSet-label events); absent = `examples/` beside the database. */
  readonly examplesDir?: string;
}

export interface Recording {
  readonly path: string;
  readonly metrics: HistoryMetrics;
  readonly writer: HistoryWriter;
  /** Prefix of this run's history event ids (`<run>/<event id>`). */
  readonly runId: string;
  /** /api/events, /api/search, /api/sources over a read-only connection. */
  readonly routes: ReadonlyMap<string, HttpRoute>;
  /** A read-only connection (opened on first use; throws while the database does not exist yet). */
  reader(): HistoryStore;
  /** The same database's outbox (integrations), through the writer thread; closed by stop(). */
  readonly outbox: OutboxStore;
  /** A source's tap: frames and events in, records to the writer; never waits. */
  tap(sourceId: string, tagger: Tagger, isSpeech?: (f: ScoreFrame) => boolean): (o: SourceOutput) => void;
  /** Flushes partial segments and every accepted record, then closes the database. */
  stop(): Promise<void>;
}

/** The daemon's history: one writer thread, one recorder per source. */
export function startRecording(config: Config, deps: HistoryDeps, registry: Registry, scheduler: SchedulerLike, log: (line: string) => void): Recording {
  const h = config.history;
  const metrics = createHistoryMetrics(registry);
  // PostgreSQL I/O is async already (a pool): the store itself is the sink, and its reader.
  const pgStore = h.url ? new PostgresHistoryStore(h.url, { poolMax: h.poolMax }) : undefined;
  const sink = pgStore ?? new WorkerSink(deps.path, deps.storeOptions);
  const writer = new HistoryWriter(sink, {
    queueMaxRecords: h.queueMaxRecords,
    batchMaxRecords: h.batchMaxRecords,
    flushSeconds: h.flushSeconds,
    retrySeconds: h.retrySeconds,
    metrics,
    log,
    retention: { maxAgeMs: h.maxAgeDays * 86_400_000, maxBytes: h.maxBytes, intervalSeconds: h.retentionIntervalSeconds },
    nowMs: () => scheduler.now(),
  });
  // Distinguishes this run's event ids (`<run>/<source>:<label>:<seq>`) from earlier runs'.
  const runId = Math.floor(scheduler.now()).toString(36);
  const recorders: SourceRecorder[] = [];
  // Fleet (src/fleet): the same records also go to the hub, through the same database's outbox.
  const beats = new Map<string, SourceBeat>();
  const fleet = config.fleet.url
    ? new FleetEdge(config.fleet, { site: siteOf(config.fleet.site), version: deps.version ?? '', outbox: sink, registry, log, nowMs: () => scheduler.now(), sources: () => [...beats.values()] })
    : undefined;
  const records: RecordSink = fleet ? { addSegment: (s) => (writer.addSegment(s), fleet.addSegment(s)), addEvent: (e) => (writer.addEvent(e), fleet.addEvent(e)) } : writer;
  let reader: SqliteHistoryStore | undefined;
  // Reads run on this thread: each query is bounded by its LIMIT and the indexes (see BENCHMARKS.md).
  const store = () => pgStore ?? (reader ??= new SqliteHistoryStore(deps.path, { readonly: true }));
  const keywords = keywordIndexFor(config.models.ontologyPath);
  const where = h.url ? redactUrl(h.url) : deps.path;
  log(`history: recording to ${where}`);
  return {
    path: where,
    metrics,
    writer,
    runId,
    routes: historyRoutes(store, keywords, () => scheduler.now()),
    outbox: sink,
    reader: store,
    tap(sourceId, tagger, isSpeech) {
      const hop = Number(tagger.frontend.patchHopSeconds ?? config.frontend.patchHopSeconds);
      const rec = new SourceRecorder(
        sourceId,
        runId,
        hop,
        { segmentSeconds: h.segmentSeconds, topK: h.topK, storeEmbeddings: h.storeEmbeddings, model: tagger.name },
        records,
        () => scheduler.now(),
        isSpeech,
      );
      beats.set(sourceId, { id: sourceId, state: 'starting', lastAudioMs: null });
      recorders.push(rec);
      const index = new Map(tagger.labels.map((l) => [l.id, l.index]));
      return (o) => {
        if (o.kind === 'frame') rec.frame(o.frame);
        else if (o.kind === 'event') rec.event(o.event, index.get(o.event.labelId) ?? 0);
        else if (o.kind === 'status') {
          if (o.status.state === 'ended' || o.status.state === 'stopped') rec.flush();
          beats.set(sourceId, { ...beats.get(sourceId)!, state: o.status.state });
        } else if (o.kind === 'audio' && fleet) beats.set(sourceId, { ...beats.get(sourceId)!, lastAudioMs: scheduler.now() });
      };
    },
    async stop() {
      for (const r of recorders) r.flush();
      // Before the writer closes the database the outbox lives in.
      await fleet?.stop();
      await writer.stop();
      await reader?.close();
    },
  };
}
