import type { Command } from 'commander';
import { lastValueFrom, toArray } from 'rxjs';
import { action, configFrom } from '../common.js';
import { decodeAudioFile, rawPcmSource } from '../../audio/index.js';
import { computeLogMelPatches, logMelPatches } from '../../features/index.js';
import type { FrontendConfig } from '../../config/sections/frontend.js';
import { EarshotError } from '../../errors.js';
import { writeFileAtomic } from '../../storage/atomic-file.js';

interface FeaturesOptions {
  out?: string;
  json?: boolean;
  raw?: string;
  rate?: string;
  hopSeconds?: string;
  model?: string;
}

interface Patches {
  data: Float32Array;
  count: number;
  frames: number;
  bands: number;
}

/** stdin raw PCM goes through the streaming operator: the same code the daemon runs. */
async function patchesFromStdin(format: string, rateHz: number, cfg: FrontendConfig): Promise<Patches> {
  if (format !== 's16le') throw new EarshotError('INPUT_INVALID', `--raw ${format} is not supported (only s16le)`, { format });
  const patches = await lastValueFrom(rawPcmSource(process.stdin, { format: 's16le', sampleRateHz: rateHz }).pipe(logMelPatches(cfg), toArray()));
  const frames = cfg.patchFrames;
  const bands = cfg.melBands;
  const data = new Float32Array(patches.length * frames * bands);
  patches.forEach((p, i) => data.set(p.data, i * frames * bands));
  return { data, count: patches.length, frames, bands };
}

function parsePositive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new EarshotError('INPUT_INVALID', `${flag} must be a positive number, got '${v}'`, { flag, value: v });
  return n;
}

export function registerFeatures(program: Command): void {
  program
    .command('features')
    .description('compute VGGish log-mel patches [examples, 96, 64] of an audio file (or - for raw stdin)')
    .argument('<audio-file>', 'WAV/FLAC/MP3/Ogg/Opus/AAC file, or - with --raw')
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
        const hop = opts.hopSeconds === undefined ? undefined : parsePositive('--hop-seconds', opts.hopSeconds);
        const cfg = configFrom(cmd, hop === undefined ? undefined : { frontend: { patchHopSeconds: hop } });
        let patches: Patches;
        let source: Record<string, unknown>;
        if (opts.raw !== undefined) {
          if (file !== '-') throw new EarshotError('INPUT_INVALID', `--raw reads stdin: pass - as the file, got '${file}'`, { file });
          const rate = parsePositive('--rate', opts.rate ?? '16000');
          patches = await patchesFromStdin(opts.raw, rate, cfg.frontend);
          source = { file: '-', sampleRateHz: rate, channels: 1 };
        } else {
          const audio = await decodeAudioFile(file);
          patches = computeLogMelPatches(audio.samples, audio.sampleRateHz, cfg.frontend);
          source = { file, sampleRateHz: audio.sampleRateHz, channels: audio.channels, durationSeconds: audio.samples.length / audio.sampleRateHz };
        }
        const shape = [patches.count, patches.frames, patches.bands];
        if (opts.out) {
          const d = patches.data;
          await writeFileAtomic(opts.out, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
        }
        if (opts.json) {
          let min = Infinity;
          let max = -Infinity;
          let sum = 0;
          for (const v of patches.data) {
            if (v < min) min = v;
            if (v > max) max = v;
            sum += v;
          }
          const n = patches.data.length;
          const stats = n === 0 ? null : { min, max, mean: sum / n };
          process.stdout.write(JSON.stringify({ ...source, shape, dtype: 'float32', out: opts.out ?? null, patchHopSeconds: cfg.frontend.patchHopSeconds, stats }) + '\n');
        } else {
          process.stdout.write(`[${shape.join(', ')}]${opts.out ? ` -> ${opts.out}` : ''}\n`);
        }
      }),
    );
}
