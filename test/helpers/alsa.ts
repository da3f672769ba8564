/**
 * A capture device with no sound card, for tests that run the REAL arecord/sox.
 *
 * alsa-lib reads only the file named by ALSA_CONFIG_PATH (it replaces
 * /usr/share/alsa/alsa.conf, so nothing else, not even pcm.null, is defined).
 * The config written here defines:
 *
 *   pcm.null { type null }                      # discards playback, never blocks
 *   pcm.<name> {                                # what arecord -D <name> opens
 *     type plug                                 # accepts any rate/format request
 *     slave.pcm {
 *       type file                               # tees playback to `file`...
 *       slave.pcm "null"
 *       file "/dev/null"
 *       infile "<dir>/in.raw"                   # ...and serves capture from `infile`
 *       format "raw"
 *     }
 *   }
 *
 * Capturing S16_LE mono at any rate through it returns in.raw's bytes unchanged
 * (plug has nothing to convert because the null slave accepts the requested
 * format). Only the first in.raw-length samples are meaningful: past its end the
 * file plugin keeps returning stale buffer contents (not silence). The null PCM has
 * no clock, so capture runs as fast as the reader consumes (hundreds of MB/s):
 * tests take what they need and unsubscribe. A missing infile makes arecord fail at open
 * ("pcm_file.c: open ... for reading failed" / "audio open error: No such file or
 * directory"), which is how the daemon's fault test simulates an unplugged mic:
 * `removeInfile()` then `writeInfile()` again.
 *
 * Give `env` to whatever spawns the recorder (a child process env, or the
 * spawnImpl wrapper `spawnWithEnv`); sox additionally needs AUDIODEV=<name>,
 * which node-record-lpcm16 sets from the mic's `device`.
 */
import { type ChildProcess, spawn, type SpawnOptions } from 'node:child_process';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface AlsaFixture {
  readonly dir: string;
  readonly configPath: string;
  readonly infilePath: string;
  readonly pcmName: string;
  /** Environment additions for the recorder process. */
  readonly env: { readonly ALSA_CONFIG_PATH: string };
  /** (Re)writes the capture data as raw s16le. */
  writeInfile(samples: Int16Array): Promise<void>;
  /** Removes the capture data: the device then fails to open. */
  removeInfile(): Promise<void>;
  cleanup(): Promise<void>;
}

/** The ALSA config text (see the file comment); strings are quoted for alsa-lib. */
export function alsaConfigText(pcmName: string, infilePath: string): string {
  const q = (s: string) => JSON.stringify(s);
  return [
    'pcm.null { type null }',
    `pcm.${pcmName} {`,
    '  type plug',
    '  slave.pcm {',
    '    type file',
    '    slave.pcm "null"',
    '    file "/dev/null"',
    `    infile ${q(infilePath)}`,
    '    format "raw"',
    '  }',
    '}',
    '',
  ].join('\n');
}

export function int16Bytes(samples: Int16Array): Buffer {
  const b = Buffer.alloc(samples.length * 2);
  for (let i = 0; i < samples.length; i++) b.writeInt16LE(samples[i]!, i * 2);
  return b;
}

export async function createAlsaFixture(opts: { samples?: Int16Array; pcmName?: string } = {}): Promise<AlsaFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'earshot-alsa-'));
  const pcmName = opts.pcmName ?? 'earshot_test';
  const configPath = join(dir, 'asound.conf');
  const infilePath = join(dir, 'in.raw');
  await writeFile(configPath, alsaConfigText(pcmName, infilePath));
  const fixture: AlsaFixture = {
    dir,
    configPath,
    infilePath,
    pcmName,
    env: { ALSA_CONFIG_PATH: configPath },
    writeInfile: (samples) => writeFile(infilePath, int16Bytes(samples)),
    removeInfile: () => unlink(infilePath).catch(() => undefined),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
  if (opts.samples) await fixture.writeInfile(opts.samples);
  return fixture;
}

/** A spawnImpl that is node's spawn with extra environment variables. */
export function spawnWithEnv(extra: Readonly<Record<string, string>>): (cmd: string, args: readonly string[], options: SpawnOptions) => ChildProcess {
  return (cmd, args, options) => spawn(cmd, args, { ...options, env: { ...process.env, ...(options.env ?? {}), ...extra } });
}
