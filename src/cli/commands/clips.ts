import { resolve } from 'node:path';

import type { Command } from 'commander';

import { exportClips } from '../../clips/export.js';
import { clipsDirOf } from '../../clips/paths.js';
import { keywordIndexFor, labelIdsFor } from '../../history/keywords.js';
import { parseTime } from '../../history/query.js';
import { action, configFrom } from '../common.js';
import { openStore } from './history.js';

interface ExportOpts {
  label?: string;
  source?: string;
  since?: string;
  until?: string;
  out: string;
  db?: string;
  clipsDir?: string;
}

/** `earshot clips export`: an adapter over src/clips/export.ts. */
export function registerClips(program: Command): void {
  const clips = program.command('clips').description('event clips recorded by the daemon');
  clips
    .command('export')
    .description('copy the clips of matching events (audio, sidecar JSON, spectrogram) and an events.csv into --out')
    .requiredOption('--out <dir>', 'output directory (created if missing)')
    .option('--label <l>', 'label name, synonym or ontology id; a parent label covers its branch (the ontology, unless models.ontologyPath is none)')
    .option('--source <s>', 'only this source id')
    .option('--since <t>', 'ISO time or age (30m, 2h, 7d)')
    .option('--until <t>', 'ISO time or age')
    .option('--db <file>', 'history database (default: config history.path, else <stateDir>/history.sqlite)')
    .option('--clips-dir <dir>', 'clips directory (default: config clips.dir, else <stateDir>/clips)')
    .action(
      action(async (o: ExportOpts, cmd: Command) => {
        const cfg = configFrom(cmd);
        const now = Date.now();
        const labelIds = o.label === undefined ? undefined : labelIdsFor(keywordIndexFor(cfg.models.ontologyPath), o.label);
        const query = {
          ...(o.source !== undefined ? { source: o.source } : {}),
          ...(o.since !== undefined ? { sinceMs: parseTime(o.since, '--since', now) } : {}),
          ...(o.until !== undefined ? { untilMs: parseTime(o.until, '--until', now) } : {}),
          ...(labelIds ? { labelIds } : {}),
        };
        const dir = o.clipsDir ? resolve(o.clipsDir) : clipsDirOf(cfg, process.env);
        const store = openStore(cfg, o.db);
        const tty = process.stderr.isTTY;
        try {
          const r = await exportClips(store, dir, resolve(o.out), query, (n) => {
            if (tty && n % 50 === 0) process.stderr.write(`\rexported ${n} events`);
          });
          if (tty) process.stderr.write('\r');
          for (const m of r.missing) process.stderr.write(`missing clip file ${m} (listed in history, not in ${dir})\n`);
          process.stderr.write(`exported ${r.events} events and ${r.clips} clips to ${resolve(o.out)} (${r.csvPath})\n`);
        } finally {
          await store.close();
        }
      }),
    );
}
