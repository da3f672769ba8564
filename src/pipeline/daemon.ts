import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';

import { asyncScheduler, type Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

import type { AudioChunk } from '../audio/contracts.js';
import type { Tagger } from '../classify/contracts.js';
import { clipFilterFor } from '../clips/filter.js';
import { serveClip } from '../clips/http.js';
import { ClipManager } from '../clips/manager.js';
import { speechDetector } from '../clips/privacy.js';
import { eventsFor } from '../config/events-for.js';
import type { Config } from '../config/schema.js';
import { type FrontendConfig, frontendSchema } from '../config/sections/frontend.js';
import type { SourceConfig } from '../config/sections/sources.js';
import { EarshotError } from '../errors.js';
import { resolveThresholds } from '../events/thresholds.js';
import type { Patch } from '../features/contracts.js';
import type { Integrations } from '../integrations/contracts.js';
import { startIntegrations } from '../integrations/index.js';
import { type FeedbackDeps, fileEventFeedback } from '../learn/feedback-event.js';
import { feedbackRoute, parseFeedbackBody } from '../learn/http.js';
import { levelsMessage, spectrogramMessage } from '../levels/messages.js';
import { createLevelMetrics, type LevelMetrics, observeLevels } from '../levels/metrics.js';
import { lineLog, type Logger, silentLogger } from '../log.js';
import { createMetrics, type DaemonMetrics, initSourceMetrics, setSourceState } from '../server/metrics.js';
import { loadOntology, type Ontology, ontologyPathFor } from '../server/ontology.js';
import type { ModelInfo, SourceStatus, SourceView } from '../server/protocol.js';
import { type HttpRoute, ProtocolServer } from '../server/server.js';
import type { Storage } from '../storage/contracts.js';
import { openStorage } from '../storage/open.js';
import { type SettingsDeps, webRoutes } from '../web/routes.js';
import { type AudioSource, liveSource } from './flow.js';
import { type HistoryDeps, type Recording, startRecording } from './history-tap.js';
import { pacedAudio } from './paced-file.js';
import { describeUnapplied, unappliedChanges } from './reload.js';
import { createSourcePipeline, type SourceOutput, type SourcePipeline } from './source-pipeline.js';
import { loadTaggers, modelDirFor, type TaggerLoader } from './taggers.js';

/** The daemon's extra HTTP routes: the dashboard, the history API and, with clips on, /clips/<id>.<ext> and /api/feedback. */
function httpRoutes(
  recording: Recording | undefined,
  clipsDir: string | undefined,
  clipStore: Storage | undefined,
  web: ReadonlyMap<string, HttpRoute>,
  feedback: FeedbackDeps | undefined,
): ReadonlyMap<string, HttpRoute> {
  const routes = new Map<string, HttpRoute>([...web, ...(recording?.routes ?? [])]);
  if (clipsDir) routes.set('/clips/', (req, res, url) => serveClip(clipsDir, req, res, url.pathname, clipStore));
  if (feedback) routes.set('/api/feedback', feedbackRoute(feedback));
  return routes;
}

export interface DaemonDeps {
  /** A source in its flow mode (flow.ts): `live` sheds patches when the tagger is behind, `paced` waits. */
  readonly openSource: (cfg: SourceConfig) => AudioSource;
  readonly loadTagger: TaggerLoader;
  readonly patches: (cfg: FrontendConfig) => OperatorFunction<AudioChunk, Patch>;
  readonly scheduler?: SchedulerLike;
  readonly version: string;
  /** The daemon's log (src/log.ts; the CLI writes JSON lines to stderr at config logLevel); absent = silent. */
  readonly logger?: Logger;
  /** Taps every pipeline output (benchmarks measure latency from it). */
  readonly onOutput?: (o: SourceOutput) => void;
  /** Where history goes (the CLI resolves the path); absent or history.enabled false = not recorded. */
  readonly history?: HistoryDeps;
  /**
   * The dashboard's settings API (src/web/settings.ts): where overrides persist and how the
   * config is re-read (the SIGHUP path). Absent = settings are read-only.
   */
  readonly settings?: Omit<SettingsDeps, 'config' | 'reload' | 'labelsBySource'>;
}

export interface Daemon {
  readonly address: { host: string; port: number };
  readonly metrics: DaemonMetrics;
  /** The history recording, when on. */
  readonly recording?: Recording;
  /** Event clips, when on (history on, clips.enabled, a clips dir given). */
  readonly clips?: ClipManager;
  /** Resolves once every source has ended, failed or been stopped. */
  readonly finished: Promise<void>;
  /** Sources in state `failed` (an error no restart can fix, e.g. a missing file), in order. */
  failures(): readonly { readonly sourceId: string; readonly error: NonNullable<SourceStatus['error']> }[];
  /** SIGHUP: thresholds, smoothing-free event settings and server token/limits; sources/models need a restart. */
  reload(config: Config): void;
  /** Reverse start order: sources (closing events), server, models; bounded by supervision.stopBudgetSeconds. */
  stop(): Promise<void>;
}

interface SourceRecord {
  readonly cfg: SourceConfig;
  readonly pipeline: SourcePipeline;
  readonly tagger: Tagger;
  status: SourceStatus;
  lastAudioAt: string | null;
  streamSeconds: number;
  lastError?: { code: string; message: string; at: string };
  /** state + error code last logged: a retry loop failing the same way logs once. */
  logged?: string;
  sub?: Subscription;
  /** Tagger latency of the latest patch (ms). */
  inferenceMs?: number;
}

/** A listener reachable from other hosts; without a token anyone there can subscribe. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host) || host === '::ffff:127.0.0.1';
}

export function sourceSummary(s: SourceConfig): string {
  switch (s.kind) {
    case 'mic':
      return `mic ${s.device}`;
    case 'file':
      return `file ${s.path}`;
    case 'url':
      return `url ${s.url}`;
    case 'stdin':
      return 'stdin';
  }
}

/** What the server sees of a source, taken fresh on each request. */
function sourceView(r: SourceRecord, modelInfo: ReadonlyMap<Tagger, ModelInfo>): SourceView {
  return {
    id: r.cfg.id,
    kind: r.cfg.kind,
    model: modelInfo.get(r.tagger)!,
    status: r.status,
    lastAudioAt: r.lastAudioAt,
    streamSeconds: r.streamSeconds,
    ...(r.inferenceMs !== undefined ? { inferenceMs: r.inferenceMs } : {}),
    ...(r.lastError ? { lastError: r.lastError } : {}),
  };
}

/** Sources per tagger, in first-use order. */
function groupSources(records: readonly SourceRecord[]): Map<Tagger, string[]> {
  const by = new Map<Tagger, string[]>();
  for (const r of records) by.set(r.tagger, [...(by.get(r.tagger) ?? []), r.cfg.id]);
  return by;
}

/** One source's pipeline over its tagger; throws CONFIG_INVALID for event overrides naming no label. */
function createRecord(
  cfg: SourceConfig,
  config: Config,
  taggers: ReadonlyMap<string, Tagger>,
  deps: DaemonDeps,
  metrics: DaemonMetrics,
  scheduler: SchedulerLike,
  onAudio?: (chunk: AudioChunk, baseSeconds: number) => void,
  levelMetrics?: LevelMetrics,
): SourceRecord {
  let rec: SourceRecord | undefined;
  const tagger = taggers.get(modelDirFor(cfg, config))!;
  const frontend = frontendSchema.parse({ ...config.frontend, ...tagger.frontend });
  const pipeline = createSourcePipeline(
    { id: cfg.id, source: deps.openSource(cfg), tagger, frontend },
    {
      supervision: config.supervision,
      maxBacklogPatches: config.supervision.maxBacklogPatches,
      events: eventsFor(cfg, config),
      scheduler,
      patches: deps.patches,
      onInference: (s) => {
        metrics.inferenceSeconds.observe({ source: cfg.id }, s);
        if (rec) rec.inferenceMs = s * 1000;
      },
      onDrop: () => metrics.patchesDropped.inc({ source: cfg.id }),
      onNonFinite: (n) => metrics.nonFiniteSamples.inc({ source: cfg.id }, n),
      ...(onAudio ? { onAudio } : {}),
      ...(cfg.minLevelDb !== undefined ? { minLevelDb: cfg.minLevelDb } : {}),
      ...(levelMetrics ? { onQuietSkip: () => levelMetrics.quietSkipped.inc({ source: cfg.id }) } : {}),
    },
  );
  rec = { cfg, pipeline, tagger, status: { sourceId: cfg.id, state: 'starting', restarts: 0, backend: tagger.backend }, lastAudioAt: null, streamSeconds: 0 };
  return rec;
}

/** config -> models -> server -> sources. */
export async function startDaemon(initial: Config, deps: DaemonDeps): Promise<Daemon> {
  let config = initial;
  if (config.sources.length === 0) throw new EarshotError('CONFIG_INVALID', 'no sources configured: add a `sources:` list to the config or pass --source');
  const ids = new Set<string>();
  for (const s of config.sources) {
    if (ids.has(s.id)) throw new EarshotError('CONFIG_INVALID', `sources: id "${s.id}" is used twice`, { id: s.id });
    ids.add(s.id);
  }
  const logger = deps.logger ?? silentLogger;
  logger.setLevel(config.logLevel);
  // history, clips and integrations log plain lines
  const log = lineLog(logger);
  const scheduler = deps.scheduler ?? asyncScheduler;
  const ontologyPath = ontologyPathFor(config.models.ontologyPath);
  const ontology: Ontology | undefined = ontologyPath ? loadOntology(ontologyPath) : undefined;
  const metrics = createMetrics();
  const levelMetrics = createLevelMetrics(metrics.registry);
  const taggers = await loadTaggers(config.sources, config, deps.loadTagger);

  let records: SourceRecord[];
  let integrations: Integrations | undefined;
  const clipTaps = new Map<string, ReturnType<ClipManager['tap']>>();
  try {
    // Clip taps are created with the recording (after the server); the pipelines only start then.
    records = config.sources.map((cfg) =>
      createRecord(
        cfg,
        config,
        taggers,
        deps,
        metrics,
        scheduler,
        (c, b) => {
          clipTaps.get(cfg.id)?.audio(c, b);
          integrations?.audio(cfg.id, c);
        },
        levelMetrics,
      ),
    );
    if (config.clips.enabled) for (const r of records) clipFilterFor(config.clips, r.cfg.id, r.tagger.labels);
  } catch (e) {
    // e.g. an events.labels key the tagger does not know: nothing has started yet
    await Promise.all([...taggers.values()].map((t) => t.dispose()));
    throw e;
  }

  const recording = config.history.enabled && deps.history ? startRecording(config, deps.history, metrics.registry, scheduler, log) : undefined;
  const clipsDir = config.history.enabled && config.clips.enabled ? deps.history?.clipsDir : undefined;
  // one ModelInfo per tagger: the server lists each model once, however many sources share it
  const modelInfo = new Map<Tagger, ModelInfo>([...taggers.values()].map((t) => [t, { name: t.name, backend: t.backend, labels: t.labels }]));
  // Feedback learns from the event's clip file, so it needs history and local clips.
  const feedback: FeedbackDeps | undefined =
    recording && clipsDir
      ? { store: () => recording.reader(), clipsDir, examplesDir: deps.history?.examplesDir ?? join(dirname(recording.path), 'examples'), customModelDirs: config.models.custom }
      : undefined;
  const clipStore = clipsDir && config.clips.storageUrl ? openStorage(config.clips.storageUrl, config.storage) : undefined;
  let server: ProtocolServer;
  // `reload` is defined below; the settings API calls it only once the daemon is running.
  let reloadDaemon: ((next: Config) => void) | undefined;
  const web = webRoutes({
    config: () => config,
    labelsBySource: () => new Map(records.map((r) => [r.cfg.id, r.tagger.labels])),
    reload: (next) => reloadDaemon?.(next),
    ...(deps.settings ?? {}),
  });
  try {
    server = await ProtocolServer.start(config.server, {
      version: deps.version,
      metrics,
      ...(ontology ? { ontology } : {}),
      sources: () => records.map((r) => sourceView(r, modelInfo)),
      defaultTopK: config.events.topK,
      nowMs: () => scheduler.now(),
      integrations: () => integrations?.health(),
      routes: httpRoutes(recording, clipsDir, clipStore, web, feedback),
      ...(feedback ? { feedback: (body: unknown) => fileEventFeedback(feedback, parseFeedbackBody(body)) } : {}),
    });
  } catch (e) {
    await recording?.stop();
    await Promise.all([...taggers.values()].map((t) => t.dispose()));
    throw e;
  }

  try {
    integrations = startIntegrations(config, {
      ...(recording ? { outbox: recording.outbox } : {}),
      sources: records.map((r) => ({ id: r.cfg.id, labels: r.tagger.labels })),
      version: deps.version,
      registry: metrics.registry,
      log,
      nowMs: () => scheduler.now(),
      // The history's run id when recording, so MQTT/webhook event ids are the ids /api/events lists.
      runId: recording?.runId ?? Math.floor(scheduler.now()).toString(36),
    });
  } catch (e) {
    await recording?.stop();
    await server.close();
    await Promise.all([...taggers.values()].map((t) => t.dispose()));
    throw e;
  }
  // The tagger and engine actually in use (models.tagger auto may pick either), once per model.
  for (const [t, ids] of groupSources(records))
    logger.info(`tagger ${t.name} on ${t.backend}, ${t.labels.length} labels: sources ${ids.join(', ')}`, { model: t.name, backend: t.backend, sources: ids });
  if (!config.server.token && !isLoopback(config.server.host)) {
    logger.warn(`warning: listening on ${config.server.host} without server.token: anyone who can reach port ${server.address.port} can subscribe; set server.token or bind 127.0.0.1`, {
      host: config.server.host,
      port: server.address.port,
    });
  }
  const clips =
    recording && clipsDir
      ? new ClipManager(config.clips, { dir: clipsDir, runId: recording.runId, record: (c) => recording.writer.addClip(c), log, ...(clipStore ? { storage: clipStore } : {}) }, metrics.registry)
      : undefined;
  if (clips) {
    await clips.recover({ clip: (id) => recording!.reader().clip(id), clipsInState: (st, n) => recording!.reader().clipsInState(st, n) });
    for (const r of records) clipTaps.set(r.cfg.id, clips.tap(r.cfg.id, r.tagger.labels, speechDetector(config.privacy, r.tagger.labels, ontology)));
  }
  const ended: Promise<void>[] = [];
  for (const r of records) {
    initSourceMetrics(metrics, r.cfg.id, r.status.state);
    const tap = recording?.tap(r.cfg.id, r.tagger, speechDetector(config.privacy, r.tagger.labels, ontology));
    const clipTap = clipTaps.get(r.cfg.id);
    const onOutput = (raw: SourceOutput) => {
      deps.onOutput?.(raw);
      tap?.(raw);
      clipTap?.output(raw);
      // event.start/end carry their clip's URL path (WebSocket, MQTT, webhooks) once the clip tap opened one.
      const clip = raw.kind === 'event' ? clipTap?.clipUrl(raw.event) : undefined;
      const o: SourceOutput = clip && raw.kind === 'event' ? { kind: 'event', event: { ...raw.event, clip } } : raw;
      integrations?.tap(r.cfg.id, o);
      switch (o.kind) {
        case 'frame':
          metrics.patches.inc({ source: r.cfg.id });
          server.publishScores(o.frame);
          break;
        case 'event':
          if (o.event.type === 'event.start') metrics.events.inc({ source: r.cfg.id });
          server.publishEvent(o.event);
          break;
        case 'levels':
          observeLevels(levelMetrics, o.levels);
          server.publishLive('levels', r.cfg.id, () => levelsMessage(o.levels));
          break;
        case 'spectrogram':
          server.publishLive('spectrogram', r.cfg.id, () => spectrogramMessage(o.frames));
          break;
        case 'audio':
          r.lastAudioAt = new Date(scheduler.now()).toISOString();
          r.streamSeconds = o.streamSeconds;
          metrics.audioSeconds.inc({ source: r.cfg.id }, o.chunkSeconds);
          break;
        case 'status': {
          const { retryInSeconds, ...status } = o.status;
          if (status.state === 'down') metrics.sourceRestarts.inc({ source: r.cfg.id });
          r.status = status;
          setSourceState(metrics, r.cfg.id, status.state);
          if (status.error) r.lastError = { ...status.error, at: new Date(scheduler.now()).toISOString() };
          // quiet <-> up follows the room's level (the minLevelDb gate): not worth a log line each time
          const key = `${status.state === 'quiet' ? 'up' : status.state}:${status.error?.code ?? ''}`;
          if (key !== r.logged) {
            r.logged = key;
            const why = status.error ? `: [${status.error.code}] ${status.error.message}` : '';
            const retry = retryInSeconds !== undefined ? ` (retry in ${retryInSeconds}s, backing off; repeats of this failure are not logged)` : '';
            const gap = status.gapSeconds !== undefined ? ` after a ${status.gapSeconds.toFixed(2)}s gap` : '';
            const level = status.state === 'failed' ? 'error' : status.state === 'down' ? 'warn' : 'info';
            logger[level](`source ${r.cfg.id} (${sourceSummary(r.cfg)}): ${status.state}${gap}${why}${retry}`, {
              source: r.cfg.id,
              state: status.state,
              ...(status.error ? { code: status.error.code } : {}),
              ...(retryInSeconds !== undefined ? { retryInSeconds } : {}),
              ...(status.gapSeconds !== undefined ? { gapSeconds: status.gapSeconds } : {}),
            });
          }
          server.publishStatus(status);
          break;
        }
      }
    };
    ended.push(
      new Promise<void>((resolve) => {
        r.sub = r.pipeline.output.subscribe({ next: onOutput, complete: resolve, error: resolve });
      }),
    );
  }

  let stopping: Promise<void> | undefined;
  const daemon: Daemon = {
    address: server.address,
    metrics,
    ...(recording ? { recording } : {}),
    ...(clips ? { clips } : {}),
    finished: Promise.all(ended).then(() => undefined),
    failures: () => records.flatMap((r) => (r.status.state === 'failed' && r.status.error ? [{ sourceId: r.cfg.id, error: r.status.error }] : [])),
    reload(next: Config) {
      // Validate against every source's labels first, so a bad override changes nothing.
      const byId = new Map(next.sources.map((s) => [s.id, s]));
      const eventsOf = (r: SourceRecord) => eventsFor(byId.get(r.cfg.id) ?? r.cfg, next);
      for (const r of records) resolveThresholds(eventsOf(r), r.tagger.labels);
      // against the start-up config: what a reload does not apply stays as it was then
      for (const c of unappliedChanges(initial, next)) logger.warn(describeUnapplied(c), { key: c.key });
      config = next;
      for (const r of records) r.pipeline.setEventsConfig(eventsOf(r));
      server.setConfig({ ...next.server, host: initial.server.host, port: initial.server.port }, next.events.topK);
      logger.setLevel(next.logLevel);
      logger.info('configuration reloaded (events, server token and limits, logLevel)');
    },
    stop() {
      stopping ??= (async () => {
        const budgetMs = config.supervision.stopBudgetSeconds * 1000;
        let timer: NodeJS.Timeout | undefined;
        const work = (async () => {
          for (const r of [...records].reverse()) r.pipeline.stop();
          await clips?.stop();
          await integrations?.stop();
          await recording?.stop();
          await clips?.close();
          (clipStore as { close?: () => void } | undefined)?.close?.();
          await server.close();
          await Promise.all([...taggers.values()].map((t) => t.dispose()));
        })();
        const budget = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), budgetMs);
        });
        const r = await Promise.race([work, budget]);
        clearTimeout(timer);
        for (const rec of records) rec.sub?.unsubscribe();
        if (r === 'timeout') logger.warn(`stop exceeded supervision.stopBudgetSeconds (${config.supervision.stopBudgetSeconds}s); exiting anyway`);
      })();
      return stopping;
    },
  };
  reloadDaemon = (next) => daemon.reload(next);
  return daemon;
}

/** Production wiring: real sources (arecord/sox, files, ffmpeg, stdin), the frontend and YAMNet. */
export async function defaultDaemonDeps(opts: { version: string; stdin?: Readable; logger?: Logger }): Promise<DaemonDeps> {
  const [{ sourceFromConfig }, { decodeAudioFile }, { logMelPatches }, { defaultTaggerLoader }] = await Promise.all([
    import('../audio/from-config.js'),
    import('../audio/decode.js'),
    import('../features/patches.js'),
    import('./taggers.js'),
  ]);
  return {
    version: opts.version,
    openSource: (cfg) =>
      cfg.kind === 'file' && !cfg.realtime
        ? pacedAudio(() => decodeAudioFile(cfg.path), { loop: cfg.loop })
        : liveSource(() => sourceFromConfig(cfg, { ...(opts.stdin ? { stdin: opts.stdin } : {}), scheduler: asyncScheduler })),
    loadTagger: defaultTaggerLoader,
    patches: logMelPatches,
    ...(opts.logger ? { logger: opts.logger } : {}),
  };
}
