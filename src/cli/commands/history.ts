import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';

import type { Command } from 'commander';

import type { Config } from '../../config/schema.js';
import { EarshotError } from '../../errors.js';
import type { HistoryStore, QuantizedEmbedding, StreamRef, TimeFilter } from '../../history/contracts.js';
import { meanEmbedding } from '../../history/embedding.js';
import { keywordIndexFor, labelIdsFor } from '../../history/keywords.js';
import { historyTargetOf, openHistoryStore } from '../../history/open.js';
import { redactUrl } from '../../history/postgres.js';
import { eventsWithClips, hitJson, parseLimit, parseScore, parseTime, similarJson } from '../../history/query.js';
import { action, configFrom } from '../common.js';

interface FilterOpts {
  db?: string;
  source?: string;
  since?: string;
  until?: string;
  limit?: string;
  json?: boolean;
}

export function openStore(cfg: Config, db: string | undefined): HistoryStore {
  return openHistoryStore(historyTargetOf(cfg, process.env, db), { readonly: true, poolMax: 2 });
}

function timeFilter(o: FilterOpts): TimeFilter {
  const now = Date.now();
  return {
    ...(o.source !== undefined ? { source: o.source } : {}),
    ...(o.since !== undefined ? { sinceMs: parseTime(o.since, '--since', now) } : {}),
    ...(o.until !== undefined ? { untilMs: parseTime(o.until, '--until', now) } : {}),
  };
}

const out = (line: string) => process.stdout.write(`${line}\n`);
const where = (s: StreamRef) => (s.kind === 'file' ? s.name : `source ${s.name}`);
const filterFlags = (c: Command) =>
  c
    .option('--db <file|url>', 'history: SQLite file or postgres:// URL (default: config history.url, history.path, else <stateDir>/history.sqlite)')
    .option('--source <s>', 'only this source id (or site/source on a hub) or file path')
    .option('--since <t>', 'ISO time or age (30m, 2h, 7d)')
    .option('--until <t>', 'ISO time or age')
    .option('-n, --limit <n>', 'at most this many results (default 20)')
    .option('--json', 'JSON lines');

/** `earshot events`, `earshot search`, `earshot index`: adapters over src/history. */
export function registerHistory(program: Command): void {
  filterFlags(program.command('events').description('list recorded events, newest first'))
    .option('--label <l>', 'label name or ontology id; a parent label covers its branch (the ontology, unless models.ontologyPath is none)')
    .action(
      action(async (o: FilterOpts & { label?: string }, cmd: Command) => {
        const cfg = configFrom(cmd);
        const limit = parseLimit(o.limit, '--limit', 20);
        const filter = timeFilter(o);
        const labelIds = o.label === undefined ? undefined : labelIdsFor(keywordIndexFor(cfg.models.ontologyPath), o.label);
        const store = openStore(cfg, o.db);
        try {
          const page = await store.events({ ...filter, limit, ...(labelIds ? { labelIds } : {}) });
          const json = o.json ? await eventsWithClips(store, page.events) : [];
          for (const [i, e] of page.events.entries()) {
            out(
              o.json
                ? JSON.stringify(json[i])
                : `${e.wallStartMs !== null ? new Date(e.wallStartMs).toISOString() : '-'}  ${where(e.stream)}  ${e.startSeconds.toFixed(2)}-${e.endSeconds?.toFixed(2) ?? 'open'}s  ${e.label} ${e.peakScore.toFixed(3)}  ${e.id}`,
            );
          }
        } finally {
          await store.close();
        }
      }),
    );

  filterFlags(program.command('search [query...]').description('reverse search: segments by keyword (AudioSet labels, ontology synonyms, descriptions, branches) or --like an audio file / event id'))
    .option('--like <file|event-id>', 'nearest segments by embedding cosine similarity')
    .option('--min-score <x>', 'keyword search: lowest label score (default 0.1)')
    .option('-m, --model <dir>', '--like with a file that is not indexed: YAMNet model directory (default config models.yamnetDir)')
    .action(
      action(async (words: string[], o: FilterOpts & { like?: string; minScore?: string; model?: string }, cmd: Command) => {
        const cfg = configFrom(cmd);
        const limit = parseLimit(o.limit, '--limit', 20);
        const filter = timeFilter(o);
        const query = words.join(' ').trim();
        if (!query && o.like === undefined) throw new EarshotError('INPUT_INVALID', 'search needs a query or --like <file|event-id>', { param: 'query' });
        if (query && o.like !== undefined) throw new EarshotError('INPUT_INVALID', `search takes a query or --like, not both (query '${query}')`, { param: 'like' });
        const store = openStore(cfg, o.db);
        try {
          if (o.like === undefined) {
            const keywords = keywordIndexFor(cfg.models.ontologyPath);
            const res = keywords ? keywords.resolve(query) : { query, labels: [] };
            if (o.json) out(JSON.stringify({ type: 'query', query, labels: res.labels }));
            else
              process.stderr.write(
                `query '${query}' -> ${res.labels.length ? res.labels.map((l) => `${l.label} (${l.via})`).join(', ') : keywords ? 'no AudioSet label' : 'label names only (models.ontologyPath is none)'}\n`,
              );
            const hits = await store.searchLabels({ ...filter, labelIds: labelIdsFor(keywords, query), minScore: parseScore(o.minScore, '--min-score', 0.1), limit });
            for (const h of hits) out(o.json ? JSON.stringify(hitJson(h)) : `${h.score.toFixed(3)}  ${where(h.stream)}  ${h.startSeconds.toFixed(2)}-${h.endSeconds.toFixed(2)}s  ${h.label}`);
            return;
          }
          const { embedding, exclude } = await likeQuery(cfg, store, o.like, o.model);
          const hits = await store.similar({ ...filter, embedding, limit, ...(exclude ? { excludeStream: exclude } : {}) });
          for (const h of hits) out(o.json ? JSON.stringify(similarJson(h)) : `${h.similarity.toFixed(3)}  ${where(h.stream)}  ${h.startSeconds.toFixed(2)}-${h.endSeconds.toFixed(2)}s`);
        } finally {
          await store.close();
        }
      }),
    );

  program
    .command('index <inputs...>')
    .description('tag audio files (paths, directories recursively, globs, s3://bucket/prefix) into the history database; unchanged files are skipped')
    .option('--db <file|url>', 'history: SQLite file or postgres:// URL (default: config history.url, history.path, else <stateDir>/history.sqlite)')
    .option('-m, --model <dir>', 'YAMNet model directory (default: config models.yamnetDir)')
    .option('-w, --workers <n>', 'worker threads (default: one per core)')
    .option('--queue <url>', 'enqueue the files on NATS JetStream (nats://…) for `earshot worker` processes instead of indexing here')
    .option('--wait', 'with --queue: follow the queue until every file is indexed')
    .action(
      action(async (inputs: string[], o: { db?: string; model?: string; workers?: string; queue?: string; wait?: boolean }, cmd: Command) => {
        const cfg = configFrom(cmd);
        if (o.queue !== undefined) return enqueueIndex(cfg, inputs, o.queue, o.wait ?? false);
        const workers = parseLimit(o.workers, '--workers', cpus().length, 256);
        const { listInputs, indexFiles, workerPool, inProcessPool, expandRemote } = await import('../../history/indexer.js');
        const listed = listInputs(inputs);
        // s3://bucket/prefix inputs: listed through the storage layer, each object staged in a temp dir while indexed.
        const tmp = listed.some((f) => f.startsWith('s3://')) ? mkdtempSync(join(tmpdir(), 'earshot-index-')) : undefined;
        const { openStorage } = await import('../../storage/open.js');
        const { files, remote } = tmp ? await expandRemote(listed, (u) => openStorage(u, cfg.storage), tmp) : { files: listed, remote: undefined };
        const path = historyTargetOf(cfg, process.env, o.db);
        const modelDir = o.model ?? cfg.models.yamnetDir;
        const store = openHistoryStore(path, { poolMax: workers + 1 });
        const pool = workers === 1 ? inProcessPool(await (await import('../../history/index-tagger.js')).openFileTagger(cfg, modelDir)) : workerPool(workers, cfg, modelDir);
        const { SingleBar, Presets } = (await import('cli-progress')).default;
        const bar = new SingleBar({ format: 'index [{bar}] {value}/{total} files | {hours} h audio | ETA {eta_formatted}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
        bar.start(files.length, 0, { hours: '0.00' });
        try {
          const r = await indexFiles(files, store, pool, {
            concurrency: workers,
            ...(remote ? { remote } : {}),
            onProgress: (p) => bar.update(p.done, { hours: (p.audioSeconds / 3600).toFixed(2) }),
          });
          bar.stop();
          for (const f of r.failed) process.stderr.write(`failed [${f.code}] ${f.path}: ${f.message}\n`);
          process.stderr.write(`indexed ${r.indexed}, skipped ${r.skipped} unchanged, failed ${r.failed.length}; ${(r.audioSeconds / 3600).toFixed(3)} h of audio in ${redactUrl(path)}\n`);
          if (r.failed.length) process.exitCode = 1;
        } finally {
          bar.stop();
          await pool.close();
          await store.close();
          if (tmp) rmSync(tmp, { recursive: true, force: true });
        }
      }),
    );
}

/** `earshot index --queue`: files onto the work queue; `--wait` follows it (any machine can). */
async function enqueueIndex(cfg: Config, inputs: string[], url: string, wait: boolean): Promise<void> {
  const [{ listInputs }, work, { connectForever }] = await Promise.all([import('../../history/indexer.js'), import('../../fleet/work.js'), import('../../fleet/nats.js')]);
  const files = listInputs(inputs);
  const nc = await connectForever(work.requireQueueUrl(url), 'earshot-index');
  try {
    const added = await work.enqueueFiles(nc, cfg.fleet, files);
    process.stderr.write(`queued ${added} files (${files.length - added} already waiting) on ${url}\n`);
    for (;;) {
      const st = await work.queueStatus(nc, cfg.fleet);
      process.stderr.write(`queue: ${st.waiting} waiting, ${st.inProgress} being indexed\n`);
      if (!wait || st.waiting + st.inProgress === 0) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
  } finally {
    await nc.close();
  }
}

/** The embedding `--like` searches with, and the stream to leave out of the results. */
async function likeQuery(cfg: Config, store: HistoryStore, like: string, model: string | undefined): Promise<{ embedding: QuantizedEmbedding; exclude?: StreamRef }> {
  if (existsSync(like)) {
    const path = resolve(like);
    const stream: StreamRef = { kind: 'file', name: path };
    const stored = await store.streamEmbedding(stream);
    if (stored) return { embedding: stored, exclude: stream };
    const { openFileTagger } = await import('../../history/index-tagger.js');
    const t = await openFileTagger(cfg, model ?? cfg.models.yamnetDir);
    try {
      const r = await t.tag(path, path);
      const e = meanEmbedding(r.batch.segments.flatMap((s) => (s.embedding ? [s.embedding] : [])));
      if (!e) throw new EarshotError('AUDIO_FILE_EMPTY', `${like} is too short to embed`, { file: like });
      return { embedding: e, exclude: stream };
    } finally {
      await t.dispose();
    }
  }
  const e = await store.eventEmbedding(like);
  if (!e) throw new EarshotError('INPUT_INVALID', `--like '${like}' is neither a readable audio file nor an event id in the history`, { param: 'like', value: like });
  return { embedding: e };
}
