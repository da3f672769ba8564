import type { Command } from 'commander';
import { lastValueFrom, toArray } from 'rxjs';

import { type AudioStream, openAudioStream, rawPcmSource } from '../../audio/index.js';
import type { FrontendConfig } from '../../config/sections/frontend.js';
import { EarshotError } from '../../errors.js';
import { logMelPatches, type Patch } from '../../features/index.js';
import { patchStream } from '../../features/patch-stream.js';
import { openFileAtomic } from '../../storage/atomic-file.js';
import { action, configFrom, definedOnly, positiveFlag } from '../common.js';

interface FeaturesOptions {
  out?: string;
  json?: boolean;
  raw?: string;
  rate?: string;
  hopSeconds?: string;
  model?: string;
}

/** Patch count, shape and running statistics; the patches themselves go to `sink` as they are made. */
interface Collected {
  count: number;
  frames: number;
  bands: number;
  min: number;
  max: number;
  sum: number;
  values: number;
}

async function collectPatches(patches: AsyncIterable<Patch[]>, cfg: FrontendConfig, sink: ((data: Uint8Array) => Promise<void>) | undefined): Promise<Collected> {
  const c: Collected = { count: 0, frames: cfg.patchFrames, bands: cfg.melBands, min: Infinity, max: -Infinity, sum: 0, values: 0 };
  for await (const batch of patches) {
    for (const p of batch) {
      for (const v of p.data) {
        if (v < c.min) c.min = v;
        if (v > c.max) c.max = v;
        c.sum += v;
      }
      c.values += p.data.length;
      c.count++;
      c.frames = p.frames;
      c.bands = p.bands;
    }
    if (sink && batch.length) {
      const data = new Float32Array(batch.length * batch[0]!.data.length);
      batch.forEach((p, i) => data.set(p.data, i * p.data.length));
      await sink(new Uint8Array(data.buffer));
    }
  }
  return c;
}

/** stdin raw PCM goes through the streaming operator: the same code the daemon runs. */
async function* patchesFromStdin(format: string, rateHz: number, cfg: FrontendConfig): AsyncGenerator<Patch[]> {
  if (format !== 's16le') throw new EarshotError('INPUT_INVALID', `--raw ${format} is not supported (only s16le)`, { format });
  const patches = await lastValueFrom(rawPcmSource(process.stdin, { format: 's16le', sampleRateHz: rateHz }).pipe(logMelPatches(cfg), toArray()));
  yield patches;
}

export function registerFeatures(program: Command): void {
  program
    .command('features')
    .description('compute VGGish log-mel patches [examples, 96, 64] of an audio file (or - for raw stdin)')
    .argument('<audio-file>', 'WAV/FLAC/MP3/Ogg/Opus/AAC file, or - (stdin: any format ffmpeg reads, or headerless PCM with --raw)')
    .option('-o, --out <path>', 'write patches as little-endian float32 [examples, frames, bands]')
    .option('--json', 'print a JSON summary instead of the shape line')
    .option('--raw <format>', 'read headerless PCM from stdin (s16le)')
    .option('--rate <hz>', 'sample rate of --raw input', '16000')
    .option('--hop-seconds <s>', 'patch hop (default frontend.patchHopSeconds, 0.96)')
    .option('-m, --model <dir>', "that model's own frontend instead (EfficientAT: log-mel [128, frames] float32 row-major)")
    .action(
      action(async (file: string, opts: FeaturesOptions, cmd: Command) => {
        if (opts.model !== undefined) {
          const { modelFeatures } = await import('./features-model.js');
          return modelFeatures(file, opts.model, configFrom(cmd), opts);
        }
        const cfg = configFrom(cmd, definedOnly({ frontend: { patchHopSeconds: positiveFlag('--hop-seconds', opts.hopSeconds) } }), { 'frontend.patchHopSeconds': '--hop-seconds' });
        let patches: AsyncIterable<Patch[]>;
        let source: Record<string, unknown>;
        let samples = 0;
        let audio: AudioStream | undefined;
        if (opts.raw !== undefined) {
          if (file !== '-') throw new EarshotError('INPUT_INVALID', `--raw reads stdin: pass - as the file, got '${file}'`, { file });
          const rate = positiveFlag('--rate', opts.rate) ?? 16000;
          patches = patchesFromStdin(opts.raw, rate, cfg.frontend);
          source = { file: '-', sampleRateHz: rate, channels: 1 };
        } else {
          // Streamed: blocks in, patches out (to --out as they come): memory does not grow with the file.
          const opened = (audio = await openAudioStream(file));
          const counted = async function* () {
            for await (const b of opened.blocks()) {
              samples += b.length;
              yield b;
            }
          };
          patches = patchStream(counted(), opened.sampleRateHz, cfg.frontend);
          source = { file, sampleRateHz: opened.sampleRateHz, channels: opened.channels };
        }
        let out: Awaited<ReturnType<typeof openFileAtomic>> | undefined;
        let c: Collected;
        try {
          out = opts.out === undefined ? undefined : await openFileAtomic(opts.out);
          const sink = out;
          c = await collectPatches(patches, cfg.frontend, sink && ((d) => sink.write(d)));
          await out?.commit();
        } catch (e) {
          await out?.abort();
          throw e;
        } finally {
          audio?.close();
        }
        if (opts.raw === undefined) source = { ...source, durationSeconds: samples / (source.sampleRateHz as number) };
        const shape = [c.count, c.frames, c.bands];
        if (opts.json) {
          const stats = c.values === 0 ? null : { min: c.min, max: c.max, mean: c.sum / c.values };
          process.stdout.write(JSON.stringify({ ...source, shape, dtype: 'float32', out: opts.out ?? null, patchHopSeconds: cfg.frontend.patchHopSeconds, stats }) + '\n');
        } else {
          process.stdout.write(`[${shape.join(', ')}]${opts.out ? ` -> ${opts.out}` : ''}\n`);
        }
      }),
    );
}
