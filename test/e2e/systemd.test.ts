import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
