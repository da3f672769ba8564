import type { Config } from '../../config/schema.js';
import type { ScoreFrame } from '../../events/contracts.js';
import type { TaggedAudio } from '../../models/yamnet/tag-audio.js';

/**
 * `earshot tag` for context-window models (EfficientAT): per-hop lines from a sliding
 * window of recent context (models.contextWindowSeconds every models.contextHopSeconds,
 * as the daemon scores live), or with --clip one prediction over the whole file.
 * Output lines have the YAMNet path's format.
 */
export interface TagOutputOpts {
  readonly json?: boolean;
  readonly events?: boolean;
  readonly clip?: boolean;
}

type Line = { t: number; text: string };

function labelLine(t: number, scores: Float32Array, r: TaggedAudio, k: number, json: boolean, topLabels: typeof import('../../models/yamnet/tag-audio.js').topLabels): Line {
  const top = topLabels(scores, r.labels, k);
  return {
    t,
    text: json
      ? JSON.stringify({ t, top: top.map((l) => ({ label: l.label, id: l.id, score: Number(l.score.toFixed(6)) })) })
      : `${t.toFixed(2).padStart(8)}s  ${top.map((l) => `${l.label} ${l.score.toFixed(3)}`).join(' | ')}`,
  };
}

/** Hops as the daemon's frames: from the hop's start to its end (when the daemon has them), clipped to the file. */
function hopFrames(r: TaggedAudio, hopSeconds: number, durationSeconds: number): ScoreFrame[] {
  const classes = r.labels.length;
  const frames: ScoreFrame[] = [];
  for (let i = 0; i < r.count; i++) {
    frames.push({ sourceId: 'file', startSeconds: r.startSeconds[i]!, tSeconds: Math.min(durationSeconds, r.startSeconds[i]! + hopSeconds), scores: r.scores.subarray(i * classes, (i + 1) * classes), labels: r.labels });
  }
  return frames;
}

export async function tagWithEfficientAt(file: string, dir: string, cfg: Config, k: number, opts: TagOutputOpts): Promise<void> {
  const [{ decodeAudioFile }, { loadEfficientAtTagger }, { tagClip, tagWindows }, { topLabels }] = await Promise.all([
    import('../../audio/decode.js'),
    import('../../models/efficientat/tagger.js'),
    import('../../models/efficientat/tag-audio.js'),
    import('../../models/yamnet/tag-audio.js'),
  ]);
  const audio = await decodeAudioFile(file);
  const durationSeconds = audio.samples.length / audio.sampleRateHz;
  const tagger = await loadEfficientAtTagger(dir, cfg.engine);
  try {
    const lines: Line[] = [];
    if (opts.clip) {
      const r = await tagClip(tagger, audio.samples, audio.sampleRateHz);
      lines.push(labelLine(Math.round(durationSeconds * 1e6) / 1e6, r.scores, r, k, opts.json === true, topLabels));
    } else {
      const hop = cfg.models.contextHopSeconds;
      const r = await tagWindows(tagger, audio.samples, audio.sampleRateHz, { windowSeconds: cfg.models.contextWindowSeconds, hopSeconds: hop }, Math.max(1, Math.min(cfg.engine.batchSize, 8)));
      // The daemon's serializers and events stage: `--json` lines are WebSocket messages (docs/protocol.md).
      const [{ eventPayload, scoresPayload, topK }, { framesToEvents }] = await Promise.all([import('../../server/protocol.js'), import('../../events/stage.js')]);
      const frames = hopFrames(r, hop, durationSeconds);
      for (const f of frames) {
        const line = labelLine(f.startSeconds!, f.scores, r, k, false, topLabels);
        lines.push(opts.json ? { t: line.t, text: JSON.stringify(scoresPayload(f, topK(f.scores, k, 0), 'start')) } : line);
      }
      if (opts.events !== false) {
        for (const e of framesToEvents(frames, cfg.events, hop)) {
          const text = opts.json ? JSON.stringify(eventPayload(e)) : `${e.tSeconds.toFixed(2).padStart(8)}s  ${e.type === 'event.start' ? '>>' : '<<'} ${e.label} (${e.type}, ${e.id}, score ${e.score.toFixed(3)})`;
          lines.push({ t: e.tSeconds, text });
        }
      }
      lines.sort((a, b) => a.t - b.t);
    }
    process.stdout.write(lines.map((l) => l.text).join('\n') + (lines.length ? '\n' : ''));
    if (!opts.json) {
      const how = opts.clip ? 'one clip prediction' : `${lines.length} lines, ${cfg.models.contextWindowSeconds} s context every ${cfg.models.contextHopSeconds} s`;
      process.stderr.write(`${file}: ${how}, ${tagger.name} on ${tagger.backend()}\n`);
    }
  } finally {
    await tagger.dispose();
  }
}
