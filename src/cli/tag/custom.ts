import type { Config } from '../../config/schema.js';
import type { FileTagger, TagHop } from './contracts.js';
import { collect } from './efficientat.js';
import { hopEvents } from './hop-events.js';

/**
 * `earshot tag --model <custom model dir>` (from `earshot learn`): the custom labels'
 * scores per base-model hop and their events with the calibrated thresholds (config
 * events.labels still override), printed like the AudioSet path. --clip/--summary: the
 * mean of the hop scores. The base model is the one the custom model's manifest names.
 */
export async function customFileTagger(dir: string, cfg: Config): Promise<FileTagger> {
  const [{ resample }, { readCustomModel }, { openEmbedder }, { scoreCustom }, { clipMean }] = await Promise.all([
    import('../../features/resample.js'),
    import('../../learn/modeldir.js'),
    import('../../learn/embed.js'),
    import('../../learn/tag-file.js'),
    import('../../models/efficientat/tag-audio.js'),
  ]);
  const model = readCustomModel(dir);
  const emb = await openEmbedder(model.manifest.base.dir, cfg);
  return {
    async tag(audio, mode, withEvents) {
      const raw = await collect(audio);
      const samples = audio.sampleRateHz === emb.rateHz ? raw : Float32Array.from(resample(raw, audio.sampleRateHz, emb.rateHz));
      const r = await scoreCustom(model, emb, samples);
      const C = r.labels.length;
      const durationSeconds = samples.length / emb.rateHz;
      const info = `${r.count} hops of ${emb.hopSeconds} s, custom model ${model.manifest.name} on ${emb.base.name}`;
      const hops: TagHop[] = [];
      for (let i = 0; i < r.count; i++) hops.push({ start: r.startSeconds[i]!, end: r.endSeconds[i]!, scores: r.scores.subarray(i * C, (i + 1) * C) });
      if (mode !== 'hops') return { labels: r.labels, durationSeconds, hops: [], events: [], clip: clipMean(r), info };
      const events = withEvents ? hopEvents(hops, r.labels, cfg.events, emb.hopSeconds) : [];
      return { labels: r.labels, durationSeconds, hops, events, info };
    },
    dispose: () => emb.dispose(),
  };
}
