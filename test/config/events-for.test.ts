import assert from 'node:assert/strict';
import { test } from 'node:test';

import { eventsFor } from '../../src/config/events-for.js';
import { parseConfig } from '../../src/config/load.js';
import { isEarshotError } from '../../src/errors.js';

test('a source events block lays over config.events, merging per-label overrides', () => {
  const c = parseConfig({
    events: { onThreshold: 0.5, offThreshold: 0.3, labels: { Speech: { onThreshold: 0.6 }, Music: { onThreshold: 0.4 } } },
    sources: [
      { id: 'a', kind: 'file', path: '/a.wav', events: { onThreshold: 0.8, labels: { Speech: { onThreshold: 0.9 } } } },
      { id: 'b', kind: 'file', path: '/b.wav' },
    ],
  });
  const a = eventsFor(c.sources[0]!, c);
  assert.equal(a.onThreshold, 0.8);
  assert.equal(a.offThreshold, 0.3);
  assert.deepEqual(a.labels, { Speech: { onThreshold: 0.9 }, Music: { onThreshold: 0.4 } });
  assert.equal(eventsFor(c.sources[1]!, c), c.events);
});

test('a source whose merged events are inconsistent is refused naming the source', () => {
  const c = parseConfig({ events: { onThreshold: 0.5, offThreshold: 0.4 }, sources: [{ id: 'door', kind: 'file', path: '/d.wav', events: { onThreshold: 0.2 } }] });
  assert.throws(
    () => eventsFor(c.sources[0]!, c),
    (e) => isEarshotError(e, 'CONFIG_INVALID') && /door.*offThreshold/.test(e.message),
  );
});
