import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

import { systemdNotifier } from '../../src/pipeline/notify.js';

test('systemd notification: nothing without NOTIFY_SOCKET, systemd-notify KEY=VALUE args with it', () => {
  const calls: { cmd: string; args: readonly string[]; socket: string | undefined }[] = [];
  const record = ((cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv }) => {
    calls.push({ cmd, args, socket: opts.env?.NOTIFY_SOCKET });
    // a real, harmless child so the returned object is a genuine ChildProcess
    return spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  }) as unknown as typeof spawn;
  systemdNotifier(undefined, record)({ READY: '1' });
  assert.equal(calls.length, 0);
  systemdNotifier('/run/systemd/notify', record)({ READY: '1', STATUS: 'listening on 127.0.0.1:8765' });
  assert.deepEqual(calls, [{ cmd: 'systemd-notify', args: ['READY=1', 'STATUS=listening on 127.0.0.1:8765'], socket: '/run/systemd/notify' }]);
});
