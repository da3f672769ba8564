import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { projectRoot } from '../helpers/shared.js';

const unit = readFileSync(join(projectRoot, 'systemd/earshot.service'), 'utf8');

function directive(name: string): string[] {
  return unit
    .split('\n')
    .filter((l) => l.startsWith(`${name}=`))
    .map((l) => l.slice(name.length + 1));
}

test('the unit carries the hardening and lifecycle settings the daemon relies on', () => {
  assert.deepEqual(directive('Type'), ['notify']);
  assert.deepEqual(directive('NotifyAccess'), ['all'], 'READY=1 comes from the systemd-notify child');
  assert.deepEqual(directive('Restart'), ['on-failure']);
  assert.deepEqual(directive('DynamicUser'), ['yes']);
  assert.deepEqual(directive('SupplementaryGroups'), ['audio']);
  assert.deepEqual(directive('ProtectSystem'), ['strict']);
  assert.deepEqual(directive('NoNewPrivileges'), ['yes']);
  assert.deepEqual(directive('StateDirectory'), ['earshot']);
  assert.deepEqual(directive('ExecReload'), ['/bin/kill -HUP $MAINPID']);
  assert.ok(directive('Environment').includes('EARSHOT_CONFIG=/etc/earshot/config.yaml'));
});

test('systemd-analyze verify accepts the unit (ExecStart pointed at this checkout)', (t) => {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    t.skip('systemd-analyze not installed (Debian package systemd)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'earshot-unit-'));
  try {
    const path = join(dir, 'earshot.service');
    writeFileSync(path, unit.replace('/usr/bin/earshot', join(projectRoot, 'bin/earshot.js')));
    const r = spawnSync('systemd-analyze', ['verify', path], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('systemd-analyze security --offline rates the unit at most 3.5 exposure', (t) => {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    t.skip('systemd-analyze not installed (Debian package systemd)');
    return;
  }
  const r = spawnSync('systemd-analyze', ['security', '--offline=true', join(projectRoot, 'systemd/earshot.service')], { encoding: 'utf8' });
  const m = /Overall exposure level for earshot\.service: (\d+(?:\.\d+)?)/.exec(r.stdout);
  assert.ok(m, `no exposure score in: ${r.stdout.slice(-400)} ${r.stderr}`);
  assert.ok(Number(m[1]) <= 3.5, `exposure ${m[1]}`);
  // what the JIT needs stays off, and why is written next to it
  assert.deepEqual(directive('MemoryDenyWriteExecute'), []);
  assert.match(unit, /MemoryDenyWriteExecute=yes\. Node's JIT/);
  assert.deepEqual(directive('CapabilityBoundingSet'), ['']);
  assert.deepEqual(directive('DeviceAllow'), ['char-alsa rw']);
});
