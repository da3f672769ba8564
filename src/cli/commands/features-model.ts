import { writeFile } from 'node:fs/promises';

import type { Config } from '../../config/schema.js';
import { EarshotError } from '../../errors.js';

/**
 * `earshot features <audio> --model DIR`: the frontend a model directory declares, for
 * models whose input is not VGGish patches. EfficientAT: [melBands, frames] float32
 * row-major log-mel of the whole file (the model's input for `tag --clip`).
 */
export async function modelFeatures(file: string, dir: string, cfg: Config, opts: { out?: string; json?: boolean }): Promise<void> {
  const [{ decodeAudioFile }, { isEfficientAtDir, loadEfficientAtTagger }, { resolveModelDir }] = await Promise.all([
    import('../../audio/decode.js'),
    import('../../models/efficientat/tagger.js'),
    import('../../models/packaged.js'),
  ]);
  const modelDir = resolveModelDir(dir);
  if (!isEfficientAtDir(modelDir))
    throw new EarshotError('INPUT_INVALID', `--model ${dir}: only EfficientAT model directories have their own frontend; VGGish and YAMNet use the default patches (omit --model)`, { dir });
  const audio = await decodeAudioFile(file);
  // Loading creates no engine until scoring: only the manifest and frontend are used here.
  const tagger = await loadEfficientAtTagger(modelDir, cfg.engine);
  try {
    const { data, frames } = tagger.logMel(audio.samples, audio.sampleRateHz);
    const shape = [tagger.mel.melBands, frames];
    if (opts.out) await writeFile(opts.out, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    if (opts.json) {
      let min = Infinity;
      let max = -Infinity;
      let sum = 0;
      for (const v of data) {
        if (v < min) min = v;
        if (v > max) max = v;
        sum += v;
      }
      const stats = data.length === 0 ? null : { min, max, mean: sum / data.length };
      process.stdout.write(
        JSON.stringify({
          file,
          sampleRateHz: audio.sampleRateHz,
          modelSampleRateHz: tagger.mel.sampleRateHz,
          model: tagger.name,
          shape,
          dtype: 'float32',
          layout: 'bands x frames, row-major',
          out: opts.out ?? null,
          stats,
        }) + '\n',
      );
    } else {
      process.stdout.write(`[${shape.join(', ')}]${opts.out ? ` -> ${opts.out}` : ''}\n`);
    }
  } finally {
    await tagger.dispose();
  }
}
