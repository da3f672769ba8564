import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { parse } from 'yaml';

import { loadConfig } from '../../src/config/load.js';
import { runCli } from '../helpers/cli.js';
import { projectRoot } from '../helpers/shared.js';
import { household, writeWav } from './soundset.js';

const root = mkdtempSync(join(tmpdir(), 'earshot-calibrate-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('calibrate: labels that fire on the background get thresholds within the budget, merged into the config file; tag then stays quiet', async () => {
  const bg = join(root, 'room.wav');
  writeWav(bg, await household(150, 77, join(root, 'tmp')));
  const cfgPath = join(root, 'earshot.yaml');
  writeFileSync(cfgPath, '# my settings\nserver:\n  port: 8123\nevents:\n  topK: 3\n');
  const r = await runCli(['-c', cfgPath, 'calibrate', bg, '--json', '--false-alarms-per-hour', '1'], { timeoutMs: 600_000 });
  assert.equal(r.code, 0, r.stderr);
  const cal = r.stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { label: string; id: string; onThreshold: number; falseAlarmsPerHourBefore: number; falseAlarmsPerHourAfter: number; withinBudget: boolean });
  assert.ok(cal.length > 0, 'speech and music in the room fire some AudioSet labels at the default 0.5');
  for (const c of cal) {
    assert.ok(c.falseAlarmsPerHourBefore > 1 && c.onThreshold > 0.5, JSON.stringify(c));
    // within budget, or pinned at 1 when the label is the background itself (speech in a room full of talk)
    assert.ok(c.withinBudget ? c.falseAlarmsPerHourAfter <= 1 : c.onThreshold === 1, JSON.stringify(c));
  }
  assert.ok(
    cal.some((c) => c.withinBudget),
    JSON.stringify(cal),
  );
  const text = readFileSync(cfgPath, 'utf8');
  assert.match(text, /# my settings/);
  const y = parse(text) as { server: { port: number }; events: { topK: number; labels: Record<string, { onThreshold: number }> } };
  assert.equal(y.server.port, 8123);
  assert.equal(y.events.topK, 3);
  for (const c of cal) assert.equal(y.events.labels[c.id]!.onThreshold, c.onThreshold);
  loadConfig({ file: cfgPath });
  // The same background through `earshot tag` (YAMNet, the daemon's segmentation) with the written config: no calibrated label fires.
  const t = await runCli(['-c', cfgPath, 'tag', bg, '--model', join(projectRoot, 'models/yamnet'), '--json'], { timeoutMs: 600_000 });
  assert.equal(t.code, 0, t.stderr);
  const fired = t.stdout
    .split('\n')
    .filter((l) => l.includes('"event.start"'))
    .map((l) => (JSON.parse(l) as { labelId: string }).labelId);
  for (const c of cal.filter((c) => c.withinBudget)) assert.ok(!fired.includes(c.id), `${c.label} still fires: ${fired.join(', ')}`);
});
