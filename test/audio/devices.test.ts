import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { listCaptureDevices, parseArecordList } from '../../src/audio/devices.js';
import { micSource } from '../../src/audio/index.js';
import { isEarshotError } from '../../src/errors.js';
import { type AlsaFixture, createAlsaFixture, spawnWithEnv } from '../helpers/alsa.js';
import { runCli } from '../helpers/cli.js';
import { errorOf, knownInt16 } from './collect.js';

// Issue #20 gap 3: MIC_DEVICE_NOT_FOUND points at `earshot devices`, which lists what arecord -L sees.
let alsa: AlsaFixture;
// arecord -L lists only PCMs that carry a `hint`: an ALSA config with one such device, read by the real arecord.
let listed: { ALSA_CONFIG_PATH: string };
before(async () => {
  alsa = await createAlsaFixture({ samples: knownInt16(1600, 3) });
  const conf = join(alsa.dir, 'listed.conf');
  writeFileSync(conf, 'pcm.earshot_test { type null hint { show on description "earshot test capture" } }\n');
  listed = { ALSA_CONFIG_PATH: conf };
});
after(async () => {
  await alsa.cleanup();
});

test('parseArecordList: names start a line, indented lines describe them', () => {
  assert.deepEqual(parseArecordList('null\n    Discard all samples\ndefault\n    Default ALSA Output\n    (currently PipeWire)\nhw:CARD=PCH,DEV=0\n'), [
    { name: 'null', description: 'Discard all samples' },
    { name: 'default', description: 'Default ALSA Output — (currently PipeWire)' },
    { name: 'hw:CARD=PCH,DEV=0', description: '' },
  ]);
});

test('listCaptureDevices runs the real arecord -L and lists a hinted PCM', async () => {
  assert.deepEqual(await listCaptureDevices(spawnWithEnv(listed)), [{ name: 'earshot_test', description: 'earshot test capture' }]);
  await assert.rejects(listCaptureDevices(spawnWithEnv({ PATH: '/nonexistent' })), (e) => isEarshotError(e, 'MIC_BINARY_NOT_FOUND'));
});

test('earshot devices (CLI) lists it; a missing device error suggests earshot devices and --source file:', async () => {
  const r = await runCli(['devices', '--json'], { env: listed });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { name: 'earshot_test', description: 'earshot test capture' });
  const e = await errorOf(micSource({ device: 'no_such_pcm', spawnImpl: spawnWithEnv(alsa.env) }));
  assert.ok(isEarshotError(e, 'MIC_DEVICE_NOT_FOUND'), String(e));
  assert.match(e.message, /`earshot devices`.*--source file:PATH/);
});
