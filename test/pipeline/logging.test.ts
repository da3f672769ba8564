import assert from 'node:assert/strict';
import { test } from 'node:test';

import { defer, NEVER, throwError } from 'rxjs';

import { parseConfig } from '../../src/config/load.js';
import { EarshotError } from '../../src/errors.js';
import { logMelPatches } from '../../src/features/patches.js';
import { lineLog } from '../../src/log.js';
import { startDaemon } from '../../src/pipeline/daemon.js';
import { liveSource } from '../../src/pipeline/flow.js';
import { captureLogger } from '../helpers/log.js';
import { energyTagger } from './fakes.js';

/** Structured logging: one JSON line per event with level, time, msg and fields; `logLevel` filters and SIGHUP changes it. */

test('logger: JSON lines with level names, ISO time and fields; lines under the level are not written', () => {
  const { logger, records } = captureLogger([], 'warn');
  logger.info('routine');
  logger.debug('chatty');
  logger.warn('source x: down', { source: 'x', code: 'MIC_FAILED' });
  logger.error('reload failed');
  assert.deepEqual(
    records.map((r) => [r.level, r.msg]),
    [
      ['warn', 'source x: down'],
      ['error', 'reload failed'],
    ],
  );
  assert.equal(records[0]!.source, 'x');
  assert.equal(records[0]!.code, 'MIC_FAILED');
  assert.ok(!Number.isNaN(Date.parse(String(records[0]!.time))), `time ${String(records[0]!.time)}`);
  logger.setLevel('debug');
  logger.debug('now shown');
  assert.equal(records.at(-1)!.msg, 'now shown');
});

test('plain-line modules: trouble is warn, routine is info, tagged with the module', () => {
  const { logger, records } = captureLogger([], 'debug');
  const log = lineLog(logger);
  log('history: recording to /x/history.db');
  log('history: write failed, retrying every 2s: [HISTORY_FULL] disk full');
  log('mqtt: connected to mqtt://127.0.0.1:1883');
  log('webhook http://h/x: HTTP 500; retrying with backoff');
  assert.deepEqual(
    records.map((r) => [r.level, r.component]),
    [
      ['info', 'history'],
      ['warn', 'history'],
      ['info', 'mqtt'],
      ['warn', 'webhook'],
    ],
  );
});

test('daemon: logLevel from the config filters its lines; a failing source logs warn with its code; reload changes the level', async (t) => {
  const cfg = (logLevel: string) =>
    parseConfig({
      logLevel,
      server: { port: 0 },
      supervision: { restartInitialSeconds: 0.01, restartMaxSeconds: 0.02 },
      sources: [
        { id: 'quiet', kind: 'stdin' },
        { id: 'gone', kind: 'mic' },
      ],
    });
  const { logger, records } = captureLogger([], 'debug');
  const d = await startDaemon(cfg('warn'), {
    version: 'test',
    logger,
    loadTagger: async () => energyTagger(),
    patches: logMelPatches,
    openSource: (c) => liveSource(() => (c.id === 'quiet' ? NEVER : defer(() => throwError(() => new EarshotError('MIC_DEVICE_NOT_FOUND', 'arecord: no device hw:9'))))),
  });
  t.after(() => d.stop());
  while (!records.some((r) => r.source === 'gone' && r.state === 'down')) await new Promise((r) => setTimeout(r, 10));
  const down = records.find((r) => r.source === 'gone' && r.state === 'down')!;
  assert.equal(down.level, 'warn');
  assert.equal(down.code, 'MIC_DEVICE_NOT_FOUND');
  assert.equal(typeof down.retryInSeconds, 'number');
  assert.ok(
    records.every((r) => r.level === 'warn' || r.level === 'error'),
    `at logLevel warn: ${records.map((r) => `${r.level} ${r.msg}`).join('\n')}`,
  );
  assert.ok(!records.some((r) => r.msg.includes('starting')), 'info lines (state starting) are filtered');

  d.reload(cfg('info'));
  assert.ok(
    records.some((r) => r.level === 'info' && /configuration reloaded/.test(r.msg)),
    'after the reload info lines are written',
  );
});
