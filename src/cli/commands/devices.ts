import type { Command } from 'commander';

import { listCaptureDevices } from '../../audio/devices.js';
import { action } from '../common.js';

/** `earshot devices`: the capture devices `--source mic:NAME` can open (ALSA, through `arecord -L`). */
export function registerDevices(program: Command): void {
  program
    .command('devices')
    .description('list audio capture devices (arecord -L) for --source mic:NAME')
    .option('--json', 'one JSON object per device')
    .action(
      action(async (opts: { json?: boolean }) => {
        const devices = await listCaptureDevices();
        for (const d of devices) process.stdout.write(opts.json ? JSON.stringify(d) + '\n' : `${d.name}${d.description ? `\n    ${d.description}` : ''}\n`);
        if (!opts.json && devices.length === 0) process.stderr.write('no capture devices found (tag a file instead: earshot run --source file:PATH)\n');
      }),
    );
}
