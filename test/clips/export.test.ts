import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';

import { csvField } from '../../src/clips/export.js';
import type { ClipRecord, EventRecord } from '../../src/history/contracts.js';
import { SqliteHistoryStore } from '../../src/history/sqlite.js';
import { tempDir } from '../audio/tmp.js';
import { runCli } from '../helpers/cli.js';

const HOUR = 3_600_000;
const NOW = Date.now();

function event(id: string, label: string, labelId: string, agoMs: number, source = 'door'): EventRecord {
  return { id, stream: { kind: 'source', name: source }, label, labelId, startSeconds: 10, endSeconds: 12.5, peakScore: 0.9, meanScore: 0.7, model: 'yamnet', wallStartMs: NOW - agoMs };
}
const clip = (id: string, eventId: string, state: ClipRecord['state'] = 'done'): ClipRecord => ({
  id,
  eventId,
  path: `${id}.flac`,
  state,
  startSeconds: 5,
  endSeconds: 14.5,
  sampleRateHz: 16000,
  bytes: 100,
  error: null,
});

/** Parses RFC 4180 CSV (quoted fields with commas, doubled quotes). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text.split('\r\n').filter(Boolean)) {
    const cells: string[] = [''];
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
      const ch = line[i]!;
      if (quoted && ch === '"' && line[i + 1] === '"') {
        cells[cells.length - 1] += '"';
        i++;
      } else if (ch === '"') quoted = !quoted;
      else if (ch === ',' && !quoted) cells.push('');
      else cells[cells.length - 1] += ch;
    }
    rows.push(cells);
  }
  return rows;
}

test('csvField quotes commas, quotes and line breaks', () => {
  assert.equal(csvField('Baby cry, infant cry'), '"Baby cry, infant cry"');
  assert.equal(csvField('say "hi"'), '"say ""hi"""');
  assert.equal(csvField(null), '');
  assert.equal(csvField(1.5), '1.5');
});

test('earshot clips export: the clips of matching events (label, time window) and an events.csv; others are left out', async (t) => {
  const tmp = tempDir('clips-export');
  t.after(() => tmp.cleanup());
  const db = tmp.path('history.sqlite');
  const clips = tmp.path('clips');
  mkdirSync(clips);
  const store = new SqliteHistoryStore(db);
  await store.write({
    events: [
      event('r/door:1:0', 'Dog', '/m/0bt9lr', 30 * HOUR),
      event('r/door:1:1', 'Dog', '/m/0bt9lr', 2 * HOUR),
      event('r/yard:1:2', 'Dog', '/m/0bt9lr', 1 * HOUR, 'yard'),
      event('r/door:2:3', 'Baby cry, infant cry', '/m/0463cq4', 1 * HOUR),
      event('r/door:1:4', 'Dog', '/m/0bt9lr', 0.5 * HOUR),
    ],
    segments: [],
    clips: [
      clip('r_door_1_0', 'r/door:1:0'),
      clip('r_door_1_1', 'r/door:1:1'),
      clip('r_door_1_1.1', 'r/door:1:1'),
      clip('r_yard_1_2', 'r/yard:1:2'),
      clip('r_door_2_3', 'r/door:2:3'),
      clip('r_door_1_4', 'r/door:1:4', 'failed'),
    ],
  });
  await store.close();
  for (const id of ['r_door_1_0', 'r_door_1_1', 'r_door_1_1.1', 'r_yard_1_2', 'r_door_2_3']) {
    writeFileSync(`${clips}/${id}.flac`, `audio of ${id}`);
    writeFileSync(`${clips}/${id}.json`, JSON.stringify({ id }));
  }
  writeFileSync(`${clips}/r_door_1_1.png`, 'png');

  const out = tmp.path('out');
  const r = await runCli(['clips', 'export', '--db', db, '--clips-dir', clips, '--label', 'dog', '--since', '1d', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /exported 3 events and 3 clips/);
  assert.deepEqual(readdirSync(out).sort(), ['events.csv', 'r_door_1_1.1.flac', 'r_door_1_1.1.json', 'r_door_1_1.flac', 'r_door_1_1.json', 'r_door_1_1.png', 'r_yard_1_2.flac', 'r_yard_1_2.json']);
  assert.equal(readFileSync(`${out}/r_door_1_1.flac`, 'utf8'), 'audio of r_door_1_1', 'copied byte for byte');
  const [head, ...rows] = parseCsv(readFileSync(`${out}/events.csv`, 'utf8'));
  assert.deepEqual(head, ['id', 'source', 'label', 'label_id', 'start_s', 'end_s', 'time', 'peak_score', 'mean_score', 'model', 'clips']);
  const byId = new Map(rows.map((row) => [row[0], row]));
  assert.deepEqual([...byId.keys()].sort(), ['r/door:1:1', 'r/door:1:4', 'r/yard:1:2'], 'Dog events of the last day; the 30 h old one and the baby cry are out');
  assert.equal(byId.get('r/door:1:1')![10], 'r_door_1_1.flac r_door_1_1.1.flac', 'both parts of a split event');
  assert.equal(byId.get('r/door:1:4')![10], '', 'an event whose clip failed is listed without one');
  assert.equal(byId.get('r/yard:1:2')![1], 'yard');

  // a label with a comma comes through the CSV intact; --source narrows
  const out2 = tmp.path('out2');
  const r2 = await runCli(['clips', 'export', '--db', db, '--clips-dir', clips, '--label', 'Baby cry, infant cry', '--source', 'door', '--out', out2]);
  assert.equal(r2.code, 0, r2.stderr);
  const [, baby] = parseCsv(readFileSync(`${out2}/events.csv`, 'utf8'));
  assert.equal(baby![2], 'Baby cry, infant cry');
  assert.ok(existsSync(`${out2}/r_door_2_3.flac`));

  const bad = await runCli(['clips', 'export', '--db', db, '--clips-dir', clips, '--since', 'yesterday', '--out', out2]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--since must be an ISO time or an age/);
});
