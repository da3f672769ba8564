import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

import { runCli } from '../helpers/cli.js';
import { projectRoot } from '../helpers/shared.js';
import { speechEvent, startTestServer } from '../server/fixture.js';

/** `earshot watch` as a child process against a real ProtocolServer. */
function watch(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(projectRoot, 'src/cli/main.ts'), 'watch', ...args], { cwd: projectRoot, env: { ...process.env, EARSHOT_CONFIG: '' } });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  const until = async (re: RegExp, which: () => string) => {
    while (!re.test(which())) {
      if (child.exitCode !== null) throw new Error(`watch exited ${child.exitCode}: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, exited, out: () => out, err: () => err, until };
}

test('earshot watch prints events live (text and json), filtered by label, and exits 0 when the daemon closes', async (t) => {
  const { server, url } = await startTestServer({ token: 'tok' });
  t.after(() => server.close());
  const w = watch([url, '--token', 'tok', '--labels', 'speech']);
  t.after(() => w.child.kill());
  await w.until(/connected to earshot 0\.0\.0-test/, w.err);
  while (server.clientStats().length === 0 || server.clientStats()[0]!.sent < 2) await new Promise((r) => setTimeout(r, 50));
  server.publishEvent(speechEvent('event.start', 1));
  server.publishEvent(speechEvent('event.end', 2));
  await w.until(/<< Speech ended/, w.out);
  assert.match(w.out(), /\[a\]\s+1\.00s  >> Speech started \(score 0\.90\)/);
  assert.match(w.out(), /\[a\]\s+2\.00s  << Speech ended \(2\.00s-2\.00s, peak 0\.90\)/);

  const j = watch([url, '--token', 'tok', '--json']);
  t.after(() => j.child.kill());
  await j.until(/connected/, j.err);
  while (server.clientStats().length < 2 || server.clientStats().some((c) => c.sent < 2)) await new Promise((r) => setTimeout(r, 50));
  server.publishEvent(speechEvent('event.start', 3));
  await j.until(/event\.start/, j.out);
  const m = JSON.parse(j.out().trim().split('\n')[0]!) as { type: string; label: string; start: number; end: number };
  assert.deepEqual([m.type, m.label, m.start, m.end], ['event.start', 'Speech', 3, 3]);

  await server.close();
  assert.equal(await w.exited, 0);
  assert.equal(await j.exited, 0);
});

test('earshot watch: a wrong token, a misspelt label and no daemon are errors with exit 2', async (t) => {
  const { server, url } = await startTestServer({ token: 'tok' });
  t.after(() => server.close());
  const bad = await runCli(['watch', url, '--token', 'nope'], { env: { EARSHOT_CONFIG: '' } });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /error \[AUTH_FAILED\]: .*HTTP 401/);
  const typo = await runCli(['watch', url, '--token', 'tok', '--labels', 'Speach'], { env: { EARSHOT_CONFIG: '' } });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /error \[PROTOCOL_ERROR\]: subscription refused: .*did you mean "Speech"/);
  const none = await runCli(['watch', 'ws://127.0.0.1:1/'], { env: { EARSHOT_CONFIG: '' } });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /error \[STREAM_FAILED\]: cannot connect to ws:\/\/127\.0\.0\.1:1\/: ECONNREFUSED/);
});
