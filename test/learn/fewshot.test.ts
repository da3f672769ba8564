import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { loadConfig } from '../../src/config/load.js';
import { openEmbedder } from '../../src/learn/embed.js';
import { readCustomModel } from '../../src/learn/modeldir.js';
import { runLearn } from '../../src/learn/run.js';
import { customEvents, scoreCustom } from '../../src/learn/tag-file.js';
import { projectRoot } from '../helpers/shared.js';
import { buildStream, buildTrainingSet, RATE, TARGETS } from './soundset.js';

/**
 * Must-show of issue #15: 4 sounds learned from 5 recordings each (plus 5 minutes of the
 * room), then a 30-minute household stream with the 4 sounds and as many look-alikes, each
 * played back with its own speed, EQ and gain at 0-10 dB SNR. Event recall >= 0.9 and
 * <= 2 false alarms per hour (any event not on an occurrence of its own label, look-alikes
 * included). Seeds differ from every set used while developing the learner.
 */
const root = mkdtempSync(join(tmpdir(), 'earshot-fewshot-'));
after(() => rmSync(root, { recursive: true, force: true }));

// Not met yet: measured 2026-12-02 (seeds below) event recall 0.701 (47/67) and 62 false alarms/hour
// (31 in 30 min, most on look-alikes and on music/speech of the stream's background); see BENCHMARKS.md.
// `todo` keeps the real assertions running and reporting without failing the suite.
test('4 sounds from 5 examples: event recall >= 0.9 and <= 2 false alarms/hour on a 30-minute stream', { todo: 'not met: recall 0.701, 62 false alarms/hour (BENCHMARKS.md)' }, async (t) => {
  const cfg = loadConfig({});
  await buildTrainingSet(join(root, 'data'), { perClass: 5, backgroundSeconds: 300, seed: 2027 });
  const { report } = await runLearn({ dataDir: join(root, 'data'), outDir: join(root, 'model'), baseDir: join(projectRoot, 'models/yamnet'), config: cfg });
  assert.equal(report.classes.length, Object.keys(TARGETS).length);
  assert.ok(report.classes.every((c) => c.recordings === 5));
  const seconds = Number(process.env.EARSHOT_FEWSHOT_SECONDS ?? 1800);
  const stream = await buildStream(seconds, 4242, join(root, 'tmp'));
  const emb = await openEmbedder(join(projectRoot, 'models/yamnet'), cfg);
  try {
    const r = await scoreCustom(readCustomModel(join(root, 'model')), emb, stream.samples);
    const starts = (await customEvents(r, cfg.events, emb.hopSeconds)).filter((e) => e.type === 'event.start');
    const targets = stream.truth.map((o, i) => ({ ...o, i })).filter((o) => o.target);
    const hit = new Set<number>();
    const falseAlarms: string[] = [];
    for (const e of starts) {
      const o = targets.find((o) => o.label === e.label && e.startSeconds <= o.endSeconds + 1 && e.endSeconds >= o.startSeconds - 1);
      if (o) hit.add(o.i);
      else {
        const near = stream.truth.find((o) => e.startSeconds <= o.endSeconds + 1 && e.endSeconds >= o.startSeconds - 1);
        falseAlarms.push(`${e.label} at ${e.startSeconds}s (${near ? `on ${near.label}` : 'background'})`);
      }
    }
    const hours = stream.samples.length / RATE / 3600;
    const recall = hit.size / targets.length;
    const perHour = falseAlarms.length / hours;
    const figures = {
      recall: Number(recall.toFixed(3)),
      hits: hit.size,
      targets: targets.length,
      lookalikes: stream.truth.length - targets.length,
      falseAlarms: falseAlarms.length,
      falseAlarmsPerHour: Number(perHour.toFixed(2)),
      streamMinutes: Number((hours * 60).toFixed(1)),
      falseAlarmList: falseAlarms,
    };
    t.diagnostic(JSON.stringify(figures));
    assert.ok(hours * 60 >= 10);
    assert.ok(recall >= 0.9, `event recall ${recall.toFixed(3)} (${hit.size}/${targets.length})`);
    assert.ok(perHour <= 2, `${perHour.toFixed(2)} false alarms/hour: ${falseAlarms.join('; ')}`);
  } finally {
    await emb.dispose();
  }
});
