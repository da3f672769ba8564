import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';

import { startTestServer } from './fixture.js';
import { httpGet } from './wsclient.js';

/** Found by test/fuzz/protocol.fuzz.test.ts: a request target `//…` made `new URL` throw inside the handler (an unhandled rejection ends the daemon). */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let out = '';
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('end', () => resolve(out));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    s.setTimeout(5000, () => s.destroy());
  });
}

test('odd request targets get 404/400 (HTTP) or 401 (upgrade), and the daemon keeps serving', async (t) => {
  const { server, http } = await startTestServer({ token: 'tok' });
  t.after(() => server.close());
  const { port } = server.address;
  for (const target of ['//%2500./etc/pa%25C3%25BFswd', '//%00x', '//[bad', '*']) {
    const res = await raw(port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    // `//…` is a path like any other (404 here); `*` is no path at all (400)
    assert.match(res, target === '*' ? /^HTTP\/1\.1 400 / : /^HTTP\/1\.1 404 /, `${target}: ${res.slice(0, 80)}`);
    const up = await raw(
      port,
      `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`,
    );
    assert.match(up, /^HTTP\/1\.1 401 /, `upgrade ${target}: ${up.slice(0, 80)}`);
    assert.match(up, /AUTH_FAILED/);
  }
  assert.equal((await httpGet(`${http}/api/labels?token=tok`)).status, 200, 'still serving');
});
