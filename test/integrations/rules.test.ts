import assert from 'node:assert/strict';
import { test } from 'node:test';

import { notifySchema } from '../../src/config/sections/notify.js';
import type { EventMessage } from '../../src/integrations/contracts.js';
import { NotifyRules } from '../../src/integrations/rules.js';

const ev = (id: string, type: 'start' | 'end', label: string, score: number, source = 'kitchen'): EventMessage => ({
  id,
  type,
  source,
  label,
  labelId: `/m/${label}`,
  score,
  startSeconds: 0,
  endSeconds: type === 'end' ? 1 : null,
  time: '',
});
const at = (h: number, m = 0, s = 0) => new Date(2026, 0, 5, h, m, s).getTime();

test('rules: first match decides (exclude, minScore, cooldown per source+label, quiet hours over midnight); ends follow their starts; no match = sent', () => {
  const cfg = notifySchema.parse({
    rules: [
      { labels: ['speech'], exclude: true },
      { sources: ['kitchen'], labels: ['Dog'], minScore: 0.5, cooldownSeconds: 60 },
      { labels: ['Doorbell'], quietHours: '22:00-07:00' },
    ],
  });
  const r = new NotifyRules(cfg.rules);
  assert.equal(r.allow(ev('a', 'start', 'Speech', 0.9), at(12)), false, 'excluded by name, case-insensitive');
  assert.equal(r.allow(ev('a', 'end', 'Speech', 0.9), at(12)), false, 'its end too');
  assert.equal(r.allow(ev('b', 'start', 'Dog', 0.4), at(12)), false, 'below minScore');
  assert.equal(r.allow(ev('c', 'start', 'Dog', 0.8), at(12)), true);
  assert.equal(r.allow(ev('c', 'end', 'Dog', 0.8), at(12, 0, 5)), true, 'end of a sent start');
  assert.equal(r.allow(ev('d', 'start', 'Dog', 0.9), at(12, 0, 30)), false, 'within the cooldown');
  assert.equal(r.allow(ev('e', 'start', 'Dog', 0.9, 'garden'), at(12, 0, 30)), true, 'other source: no rule matches');
  assert.equal(r.allow(ev('f', 'start', 'Dog', 0.9), at(12, 1, 1)), true, 'cooldown over');
  assert.equal(r.allow(ev('g', 'start', 'Doorbell', 0.9), at(23, 30)), false, 'quiet hours before midnight');
  assert.equal(r.allow(ev('h', 'start', 'Doorbell', 0.9), at(6, 59)), false, 'quiet hours after midnight');
  assert.equal(r.allow(ev('i', 'start', 'Doorbell', 0.9), at(7, 0)), true, 'quiet hours over');
  assert.equal(r.allow(ev('j', 'start', 'Glass', 0.1), at(3)), true, 'no rule: sent');
  assert.throws(() => notifySchema.parse({ rules: [{ quietHours: '25:00-07:00' }] }), /HH:MM-HH:MM/);
});
