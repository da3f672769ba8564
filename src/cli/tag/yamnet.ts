import type { Config } from '../../config/schema.js';
import { type FrontendConfig, frontendSchema } from '../../config/sections/frontend.js';
import { windowEndSeconds } from '../../features/timing.js';
import type { TaggedAudio } from '../../models/yamnet/tag-audio.js';
import type { FileTagger, TagHop } from './contracts.js';
import { hopEvents } from './hop-events.js';

/** Stream time at which hop `i`'s window ends, clipped to the input's end (YAMNet pads the last hop with zeros). */
function hopEnd(r: TaggedAudio, i: number, frontend: FrontendConfig, durationSeconds: number): number {
  return Math.min(windowEndSeconds(r.startSeconds[i]!, frontend.patchFrames, frontend), durationSeconds);
}

/** YAMNet per 0.48 s hop, streamed (bounded memory); clip scores are the mean of the hop scores. */
export async function yamnetFileTagger(dir: string, cfg: Config): Promise<FileTagger> {
  const [{ loadYamnetTagger }, { tagStream }, { clipMean }] = await Promise.all([
    import('../../models/yamnet/tagger.js'),
    import('../../models/yamnet/tag-audio.js'),
    import('../../models/efficientat/tag-audio.js'),
  ]);
  const tagger = await loadYamnetTagger(dir, cfg.engine);
  const frontend = frontendSchema.parse({ ...cfg.frontend, ...tagger.frontend });
  return {
    async tag(audio, mode, withEvents) {
      const r = await tagStream(tagger, audio.blocks(), audio.sampleRateHz, frontend);
      const classes = r.labels.length;
      const duration = r.durationSeconds;
      const info = `${r.count} hops of ${frontend.patchHopSeconds} s, ${tagger.name} on ${tagger.backend}`;
      if (mode !== 'hops') return { labels: r.labels, durationSeconds: duration, hops: [], events: [], clip: clipMean(r), info };
      const hops: TagHop[] = [];
      for (let i = 0; i < r.count; i++) {
        hops.push({ start: r.startSeconds[i]!, end: hopEnd(r, i, frontend, duration), scores: r.scores.subarray(i * classes, (i + 1) * classes) });
      }
      const events = withEvents ? hopEvents(hops, r.labels, cfg.events, frontend.patchHopSeconds) : [];
      return { labels: r.labels, durationSeconds: duration, hops, events, info };
    },
    dispose: () => tagger.dispose(),
  };
}
