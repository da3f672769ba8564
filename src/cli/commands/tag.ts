import type { Command } from 'commander';
import { action, configFrom, intFlag } from '../common.js';
import { EarshotError } from '../../errors.js';
import { frontendSchema, type FrontendConfig } from '../../config/sections/frontend.js';
import type { EventsConfig } from '../../config/sections/events.js';
import type { LabelEvent, ScoreFrame } from '../../events/contracts.js';
import type { TaggedAudio } from '../../models/yamnet/tag-audio.js';

interface TagOpts {
  model?: string;
  engine?: string;
  tfjsBackend?: string;
  top?: string;
  json?: boolean;
  events?: boolean;
  clip?: boolean;
}

const ENGINES = ['auto', 'onnx', 'tfjs'];
const BACKENDS = ['auto', 'tensorflow', 'wasm', 'cpu'];

function oneOf(v: string | undefined, allowed: readonly string[], flag: string): string | undefined {
  if (v !== undefined && !allowed.includes(v)) throw new EarshotError('INPUT_INVALID', `${flag} must be one of ${allowed.join(', ')}, got '${v}'`, { flag, value: v });
  return v;
}

/** Stream time at which hop `i`'s window ends, clipped to the file's end (YAMNet pads the last hop with zeros). */
async function hopEnd(r: TaggedAudio, i: number, frontend: FrontendConfig, durationSeconds: number): Promise<number> {
  const { windowEndSeconds } = await import('../../pipeline/source-pipeline.js');
  return Math.min(windowEndSeconds(r.startSeconds[i]!, frontend.patchFrames, frontend), durationSeconds);
}

/**
 * The daemon's event stage over a file's hops: frames are stamped with their window
 * (start, end clipped to the file's end) as the daemon does, smoothed and segmented with config events.*.
 */
async function detectEvents(r: TaggedAudio, frontend: FrontendConfig, events: EventsConfig, durationSeconds: number): Promise<LabelEvent[]> {
  const { from, lastValueFrom, toArray } = await import('rxjs');
  const { segmentEvents, smoothScores } = await import('../../events/index.js');
  const classes = r.labels.length;
  const frames: ScoreFrame[] = [];
  for (let i = 0; i < r.count; i++) {
    const tSeconds = await hopEnd(r, i, frontend, durationSeconds);
    frames.push({ sourceId: 'file', startSeconds: r.startSeconds[i]!, tSeconds, scores: r.scores.subarray(i * classes, (i + 1) * classes), labels: r.labels });
  }
  return lastValueFrom(from(frames).pipe(smoothScores(events.smoothingSeconds), segmentEvents(events, { hopSeconds: frontend.patchHopSeconds }), toArray()));
}

/** `earshot tag <audio-file>`: YAMNet's top labels for every 0.48 s hop of a file. */
export function registerTag(program: Command): void {
  program
    .command('tag <audio-file>')
    .description('print the top AudioSet labels per patch hop of an audio file (YAMNet)')
    .option('-m, --model <dir>', 'YAMNet, EfficientAT or custom (`earshot learn`) model directory (default: config models.yamnetDir)')
    .option('-e, --engine <kind>', `inference engine: ${ENGINES.join('|')} (default: config engine.kind)`)
    .option('--tfjs-backend <name>', `TF.js backend: ${BACKENDS.join('|')} (default: config engine.tfjsBackend)`)
    .option('-k, --top <k>', 'labels per hop (default: config events.topK)')
    .option('--json', 'JSON lines: {"t", "start", "end" (seconds of the window scored; t = start), "top": [{"label", "id", "score"}]}, and event lines with "type", "start", "end"')
    .option('--no-events', 'omit the detected events (hysteresis segmentation as `earshot run`, config events.*)')
    .option('--clip', 'one prediction over the whole file: one line with t = duration (EfficientAT: the whole file in one pass; YAMNet: the mean of its hop scores)')
    .action(
      action(async (file: string, opts: TagOpts, cmd: Command) => {
        const engine = oneOf(opts.engine, ENGINES, '--engine');
        const backend = oneOf(opts.tfjsBackend, BACKENDS, '--tfjs-backend');
        const cfg = configFrom(cmd, {
          ...(engine || backend ? { engine: { ...(engine ? { kind: engine } : {}), ...(backend ? { tfjsBackend: backend } : {}) } } : {}),
        });
        const k = intFlag('--top', opts.top, { min: 1 }) ?? cfg.events.topK;
        if (cfg.models.tagger === 'vggish') throw new EarshotError('CONFIG_INVALID', 'earshot tag runs YAMNet; models.tagger is vggish (set it to auto or yamnet)', { tagger: cfg.models.tagger });
        const { isEfficientAtDir } = await import('../../models/efficientat/tagger.js');
        const { resolveModelDir } = await import('../../models/packaged.js');
        // auto: EfficientAT mn04 when installed (shipped in models/; measured better, see README), else YAMNet.
        const mn = resolveModelDir(cfg.models.efficientatDir);
        const preferMn = cfg.models.tagger === 'efficientat' || (cfg.models.tagger === 'auto' && isEfficientAtDir(mn));
        const dir = opts.model ?? (preferMn ? mn : resolveModelDir(cfg.models.yamnetDir));
        const { isCustomModelDir } = await import('../../learn/modeldir.js');
        if (isCustomModelDir(dir)) {
          const { tagWithCustomModel } = await import('./tag-custom.js');
          return tagWithCustomModel(file, dir, cfg, k, opts);
        }
        if (isEfficientAtDir(resolveModelDir(dir))) {
          const { tagWithEfficientAt } = await import('./tag-efficientat.js');
          return tagWithEfficientAt(file, resolveModelDir(dir), cfg, k, opts);
        }
        // Loaded on use: decoders and engines are heavy, and every CLI start registers this command.
        const [{ openAudioStream }, { loadYamnetTagger }, { tagStream, topLabels }] = await Promise.all([
          import('../../audio/stream.js'),
          import('../../models/yamnet/tagger.js'),
          import('../../models/yamnet/tag-audio.js'),
        ]);
        // Decode before loading the model: a bad file should fail fast and cheaply.
        // Streamed (WAV read block by block): memory does not grow with the file's length.
        const audio = await openAudioStream(file);
        const tagger = await loadYamnetTagger(dir, cfg.engine);
        try {
          const frontend = frontendSchema.parse({ ...cfg.frontend, ...tagger.frontend });
          const r = await tagStream(tagger, audio.blocks(), audio.sampleRateHz, frontend);
          const classes = r.labels.length;
          const duration = r.durationSeconds;
          if (opts.clip) {
            const { clipMean } = await import('../../models/efficientat/tag-audio.js');
            const t = Math.round(duration * 1e6) / 1e6;
            const top = topLabels(clipMean(r), r.labels, k);
            const text = opts.json ? JSON.stringify({ t, top: top.map((l) => ({ label: l.label, id: l.id, score: Number(l.score.toFixed(6)) })) }) : `${t.toFixed(2).padStart(8)}s  ${top.map((l) => `${l.label} ${l.score.toFixed(3)}`).join(' | ')}`;
            process.stdout.write(text + '\n');
            return;
          }
          const lines: Array<{ t: number; text: string }> = [];
          for (let i = 0; i < r.count; i++) {
            const top = topLabels(r.scores.subarray(i * classes, (i + 1) * classes), r.labels, k);
            const t = r.startSeconds[i]!;
            const end = Math.round((await hopEnd(r, i, frontend, duration)) * 1e6) / 1e6;
            lines.push({
              t,
              text: opts.json
                ? JSON.stringify({ t, start: t, end, top: top.map((l) => ({ label: l.label, id: l.id, score: Number(l.score.toFixed(6)) })) })
                : `${t.toFixed(2).padStart(8)}s  ${top.map((l) => `${l.label} ${l.score.toFixed(3)}`).join(' | ')}`,
            });
          }
          if (opts.events !== false) {
            for (const e of await detectEvents(r, frontend, cfg.events, duration)) {
              const text = opts.json
                ? JSON.stringify({ type: e.type, id: e.id, label: e.label, labelId: e.labelId, t: e.tSeconds, start: e.startSeconds, end: e.endSeconds, score: Number(e.score.toFixed(6)) })
                : `${e.tSeconds.toFixed(2).padStart(8)}s  ${e.type === 'event.start' ? '>>' : '<<'} ${e.label} (${e.type}, ${e.id}, score ${e.score.toFixed(3)})`;
              lines.push({ t: e.tSeconds, text });
            }
          }
          // Stable sort: hops and events interleave in stream time, hops first on ties.
          lines.sort((a, b) => a.t - b.t);
          process.stdout.write(lines.map((l) => l.text).join('\n') + (lines.length ? '\n' : ''));
          if (!opts.json) process.stderr.write(`${file}: ${r.count} hops of ${frontend.patchHopSeconds} s, ${tagger.name} on ${tagger.backend}\n`);
        } finally {
          await tagger.dispose();
        }
      }),
    );
}
