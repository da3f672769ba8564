import type { Tagger } from '../../classify/contracts.js';
import type { Config } from '../../config/schema.js';
import { EarshotError } from '../../errors.js';
import { contextWindowPatches } from './stream.js';
import { loadEfficientAtTagger } from './tagger.js';

/**
 * EfficientAT as a daemon Tagger: its `patches` operator turns audio into one window of
 * the last models.contextWindowSeconds per models.contextHopSeconds, and a session scores
 * each window (no state between windows: the context is in the window). The frontend
 * overrides make the pipeline stamp each frame at its window's end: 10 ms frames that
 * each cover their hop (320 samples at 32 kHz), and the hop as patchHopSeconds.
 */
export async function loadEfficientAtStreamTagger(dir: string, config: Config): Promise<Tagger> {
  const t = await loadEfficientAtTagger(dir, config.engine);
  const ctx = { windowSeconds: config.models.contextWindowSeconds, hopSeconds: config.models.contextHopSeconds };
  const frameSeconds = t.mel.hopLength / t.mel.sampleRateHz;
  // Compile the window's graph now: the first hop should not wait for it.
  await t.scoreMels(new Float32Array(t.mel.melBands * t.windowFrames), t.windowFrames, 1);
  return {
    name: t.name,
    labels: t.labels,
    frontend: { stftHopSeconds: frameSeconds, stftWindowSeconds: frameSeconds, patchHopSeconds: ctx.hopSeconds },
    backend: t.backend(),
    patches: () => contextWindowPatches(t.frontend, ctx),
    openSession() {
      return {
        async tag(p) {
          if (p.bands !== t.mel.melBands || p.data.length !== p.bands * p.frames) throw new EarshotError('INPUT_INVALID', `EfficientAT needs [${t.mel.melBands}, frames] log-mel windows, got ${p.bands} x ${p.frames} (${p.data.length} values)`, { patch: p.index });
          return (await t.scoreMels(p.data, p.frames, 1)).scores;
        },
      };
    },
    dispose: () => t.dispose(),
  };
}
