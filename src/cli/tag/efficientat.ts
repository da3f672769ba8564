import type { AudioStream } from '../../audio/stream.js';
import type { Config } from '../../config/schema.js';
import type { FileTagger, TagHop } from './contracts.js';
import { hopEvents } from './hop-events.js';

/**
 * `earshot tag` for context-window models (EfficientAT): per-hop scores from a sliding
 * window of recent context (models.contextWindowSeconds every models.contextHopSeconds,
 * as the daemon scores live), or for --clip/--summary one prediction over the whole
 * input. The whole input is held in memory here (the windowed scorer takes one array).
 */

/** The whole input as one array (the windowed scorers take one). */
export async function collect(audio: AudioStream): Promise<Float32Array> {
  const parts: Float32Array[] = [];
  let n = 0;
  for await (const b of audio.blocks()) {
    parts.push(b.slice());
    n += b.length;
  }
  const out = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function efficientAtFileTagger(dir: string, cfg: Config): Promise<FileTagger> {
  const [{ loadEfficientAtTagger }, { tagClip, tagWindows }] = await Promise.all([import('../../models/efficientat/tagger.js'), import('../../models/efficientat/tag-audio.js')]);
  const tagger = await loadEfficientAtTagger(dir, cfg.engine);
  return {
    async tag(audio, mode, withEvents) {
      const samples = await collect(audio);
      const durationSeconds = samples.length / audio.sampleRateHz;
      const on = `${tagger.name} on ${tagger.backend()}`;
      if (mode !== 'hops') {
        const r = await tagClip(tagger, samples, audio.sampleRateHz);
        return { labels: r.labels, durationSeconds, hops: [], events: [], clip: r.scores, info: `one clip prediction, ${on}` };
      }
      const hop = cfg.models.contextHopSeconds;
      const r = await tagWindows(tagger, samples, audio.sampleRateHz, { windowSeconds: cfg.models.contextWindowSeconds, hopSeconds: hop }, Math.max(1, Math.min(cfg.engine.batchSize, 8)));
      const classes = r.labels.length;
      const hops: TagHop[] = [];
      for (let i = 0; i < r.count; i++) {
        const start = r.startSeconds[i]!;
        hops.push({ start, end: Math.min(durationSeconds, start + hop), scores: r.scores.subarray(i * classes, (i + 1) * classes) });
      }
      const events = withEvents ? hopEvents(hops, r.labels, cfg.events, hop) : [];
      return { labels: r.labels, durationSeconds, hops, events, info: `${r.count} hops, ${cfg.models.contextWindowSeconds} s context every ${hop} s, ${on}` };
    },
    dispose: () => tagger.dispose(),
  };
}
