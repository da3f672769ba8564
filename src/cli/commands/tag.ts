import type { Command } from 'commander';

import { ENGINE_KINDS, TFJS_BACKENDS } from '../../config/choices.js';
import type { Config } from '../../config/schema.js';
import { EarshotError, toEarshotError } from '../../errors.js';
import { action, configFrom, definedOnly, exitCodeFor, intFlag, positiveFlag, printError } from '../common.js';
import type { FileTagger, TagMode } from '../tag/contracts.js';
import type { TagFormat } from '../tag/output.js';

interface TagOpts {
  model?: string;
  engine?: string;
  tfjsBackend?: string;
  top?: string;
  json?: boolean;
  csv?: boolean;
  events?: boolean;
  clip?: boolean;
  summary?: boolean;
  raw?: string;
  rate?: string;
}

/** The tagger for a model directory: EfficientAT (auto prefers the shipped mn04) or YAMNet. */
async function openTagger(cfg: Config, model: string | undefined): Promise<FileTagger> {
  if (cfg.models.tagger === 'vggish')
    throw new EarshotError('CONFIG_INVALID', 'earshot tag runs YAMNet or EfficientAT; models.tagger is vggish (set it to auto, yamnet or efficientat)', { tagger: cfg.models.tagger });
  const [{ isEfficientAtDir }, { resolveModelDir }] = await Promise.all([import('../../models/efficientat/tagger.js'), import('../../models/packaged.js')]);
  // auto: EfficientAT mn04 when installed (shipped in models/; measured better, see README), else YAMNet.
  const mn = resolveModelDir(cfg.models.efficientatDir);
  const preferMn = cfg.models.tagger === 'efficientat' || (cfg.models.tagger === 'auto' && isEfficientAtDir(mn));
  const dir = resolveModelDir(model ?? (preferMn ? mn : cfg.models.yamnetDir));
  if ((await import('../../learn/modeldir.js')).isCustomModelDir(dir)) return (await import('../tag/custom.js')).customFileTagger(dir, cfg);
  if (isEfficientAtDir(dir)) return (await import('../tag/efficientat.js')).efficientAtFileTagger(dir, cfg);
  return (await import('../tag/yamnet.js')).yamnetFileTagger(dir, cfg);
}

function writeOut(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())));
}

/**
 * `earshot tag <audio...>`: top labels per hop (or per input with --clip/--summary) of
 * files, directories and `-` (stdin). The model is loaded once, after the first input
 * opened (a bad file fails fast without a model load). A failing input is reported as
 * `error [CODE]: …` and the others go on; the exit code then says some failed.
 */
export function registerTag(program: Command): void {
  program
    .command('tag <audio-file...>')
    .description(
      'print the top AudioSet labels per hop of audio files, directories or - (stdin), with the detected events (tagger: config models.tagger; the shipped EfficientAT mn04 by default, else YAMNet)',
    )
    .option('-m, --model <dir>', 'model directory: EfficientAT, YAMNet or custom (`earshot learn`) (default: config models.tagger and its directory)')
    .option('-e, --engine <kind>', `inference engine: ${ENGINE_KINDS.join('|')} (config engine.kind)`)
    .option('--tfjs-backend <name>', `TF.js backend: ${TFJS_BACKENDS.join('|')} (config engine.tfjsBackend)`)
    .option('-k, --top <k>', 'labels per line (default: config events.topK)')
    .option(
      '--json',
      'JSON lines: {"t", "start", "end" (seconds of the audio scored; t = start), "top": [{"label", "id", "score"}]}, event lines with "type", "start", "end"; "file" on each line when several inputs are tagged',
    )
    .option('--csv', 'CSV: file,type,start,end,rank,label,id,score, one row per label of a hop (type hop, clip or summary) and per event (type event.start/event.end)')
    .option('--no-events', 'omit the detected events (hysteresis segmentation as `earshot run`, config events.*)')
    .option('--clip', 'one prediction over the whole input: one line with t = duration (EfficientAT: the whole input in one pass; YAMNet: the mean of its hop scores)')
    .option('--summary', 'whole-input top labels, one line per input naming it (the --clip prediction): for many files or a directory')
    .option('--raw <format>', 'with -: headerless PCM on stdin (s16le); without it stdin may hold any format ffmpeg reads')
    .option('--rate <hz>', 'sample rate of --raw input', '16000')
    .action(
      action(async (args: string[], opts: TagOpts, cmd: Command) => {
        const cfg = configFrom(cmd, definedOnly({ engine: { kind: opts.engine, tfjsBackend: opts.tfjsBackend } }), { 'engine.kind': '--engine', 'engine.tfjsBackend': '--tfjs-backend' });
        const k = intFlag('--top', opts.top, { min: 1 }) ?? cfg.events.topK;
        if (opts.clip && opts.summary) throw new EarshotError('INPUT_INVALID', '--clip and --summary are two forms of the same prediction: give one', {});
        if (opts.json && opts.csv) throw new EarshotError('INPUT_INVALID', '--json and --csv: give one output format', {});
        if (args.filter((a) => a === '-').length > 1) throw new EarshotError('INPUT_INVALID', 'stdin (-) can be read once', {});
        if (opts.raw !== undefined && opts.raw !== 's16le') throw new EarshotError('INPUT_INVALID', `--raw ${opts.raw} is not supported (only s16le)`, { flag: '--raw', value: opts.raw });
        if (opts.raw !== undefined && !args.includes('-')) throw new EarshotError('INPUT_INVALID', '--raw reads stdin: pass - as an input', { flag: '--raw' });
        const rate = positiveFlag('--rate', opts.rate) ?? 16000;
        const mode: TagMode = opts.summary ? 'summary' : opts.clip ? 'clip' : 'hops';
        const format: TagFormat = opts.json ? 'json' : opts.csv ? 'csv' : 'text';

        const [{ tagInputs }, { formatResult, CSV_HEADER }, { openAudioStream, rawPcmStream }] = await Promise.all([
          import('../tag/inputs.js'),
          import('../tag/output.js'),
          import('../../audio/stream.js'),
        ]);
        const inputs = tagInputs(args);
        const many = inputs.length > 1;
        const failures: EarshotError[] = [];
        let tagger: FileTagger | undefined;
        if (format === 'csv') await writeOut(CSV_HEADER + '\n');
        try {
          for (const input of inputs) {
            try {
              if ('error' in input) throw input.error;
              // Decode (or at least open) before loading the model: a bad file fails fast and cheaply.
              const audio = input.name === '-' && opts.raw ? rawPcmStream(process.stdin, { sampleRateHz: rate }) : await openAudioStream(input.name);
              let r;
              try {
                tagger ??= await openTagger(cfg, opts.model);
                r = await tagger.tag(audio, mode, opts.events !== false);
              } finally {
                audio.close();
              }
              const lines = formatResult(input.name, r, { format, mode, top: k, many });
              await writeOut(lines.map((l) => l + '\n').join(''));
              if (format !== 'json') process.stderr.write(`${input.name}: ${r.info}\n`);
            } catch (e) {
              const err = toEarshotError(e);
              // A model that cannot load fails every input alike: stop at the first.
              if (tagger === undefined && /^MODEL_|^ENGINE_|^CONFIG_/.test(err.code)) throw err;
              printError(err);
              failures.push(err);
            }
          }
        } finally {
          await tagger?.dispose();
        }
        if (failures.length === 0) return;
        if (many) process.stderr.write(`tag: ${failures.length} of ${inputs.length} inputs failed\n`);
        process.exitCode = Math.max(...failures.map(exitCodeFor));
      }),
    );
}
