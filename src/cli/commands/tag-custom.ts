import type { Config } from '../../config/schema.js';

/**
 * `earshot tag --model <custom model dir>`: the custom labels' scores per hop and their
 * events (calibrated thresholds; config events.labels still override), in the format of
 * the AudioSet path. The base model is the one recorded in the custom model's manifest.
 */
export async function tagWithCustomModel(file: string, dir: string, cfg: Config, k: number, opts: { json?: boolean; events?: boolean }): Promise<void> {
  const [{ decodeAudioFile }, { resample }, { readCustomModel }, { openEmbedder }, { scoreCustom, customEvents }, { topLabels }] = await Promise.all([
    import('../../audio/decode.js'),
    import('../../features/resample.js'),
    import('../../learn/modeldir.js'),
    import('../../learn/embed.js'),
    import('../../learn/tag-file.js'),
    import('../../models/yamnet/tag-audio.js'),
  ]);
  const model = readCustomModel(dir);
  const audio = await decodeAudioFile(file);
  const emb = await openEmbedder(model.manifest.base.dir, cfg);
  try {
    const samples = audio.sampleRateHz === emb.rateHz ? audio.samples : Float32Array.from(resample(audio.samples, audio.sampleRateHz, emb.rateHz));
    const r = await scoreCustom(model, emb, samples);
    const C = r.labels.length;
    const lines: Array<{ t: number; text: string }> = [];
    for (let i = 0; i < r.count; i++) {
      const top = topLabels(r.scores.subarray(i * C, (i + 1) * C), r.labels, k);
      const t = r.startSeconds[i]!;
      lines.push({
        t,
        text: opts.json
          ? JSON.stringify({ t, start: t, end: r.endSeconds[i], top: top.map((l) => ({ label: l.label, id: l.id, score: Number(l.score.toFixed(6)) })) })
          : `${t.toFixed(2).padStart(8)}s  ${top.map((l) => `${l.label} ${l.score.toFixed(3)}`).join(' | ')}`,
      });
    }
    if (opts.events !== false) {
      for (const e of await customEvents(r, cfg.events, emb.hopSeconds)) {
        const text = opts.json
          ? JSON.stringify({ type: e.type, id: e.id, label: e.label, labelId: e.labelId, t: e.tSeconds, start: e.startSeconds, end: e.endSeconds, score: Number(e.score.toFixed(6)) })
          : `${e.tSeconds.toFixed(2).padStart(8)}s  ${e.type === 'event.start' ? '>>' : '<<'} ${e.label} (${e.type}, ${e.id}, score ${e.score.toFixed(3)})`;
        lines.push({ t: e.tSeconds, text });
      }
    }
    lines.sort((a, b) => a.t - b.t);
    process.stdout.write(lines.map((l) => l.text).join('\n') + (lines.length ? '\n' : ''));
    if (!opts.json) process.stderr.write(`${file}: ${r.count} hops of ${emb.hopSeconds} s, custom model ${model.manifest.name} on ${emb.base.name}\n`);
  } finally {
    await emb.dispose();
  }
}
