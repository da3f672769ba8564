import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { action, configFrom } from '../common.js';
import { EarshotError } from '../../errors.js';
import type { Config } from '../../config/schema.js';
import type { FrontendConfig } from '../../config/sections/frontend.js';
import { decodeAudioFile } from '../../audio/decode.js';
import { computeLogMelPatches } from '../../features/index.js';
import { embedPatches, openVggish, PATCH_VALUES, postprocess, VGGISH_EMBEDDING_SIZE } from '../../models/vggish/index.js';

interface EmbedOptions {
  model?: string;
  engine?: 'auto' | 'tfjs' | 'onnx';
  out?: string;
  raw?: boolean;
  patches?: string;
  json?: boolean;
}


function readPatches(file: string): { data: Float32Array; count: number } {
  let b: Buffer;
  try {
    b = readFileSync(file);
  } catch (e) {
    throw new EarshotError('DATA_NOT_FOUND', `cannot read patches file ${file}: ${(e as Error).message}`, { file });
  }
  if (b.byteLength === 0 || b.byteLength % (PATCH_VALUES * 4) !== 0) {
    throw new EarshotError('INPUT_INVALID', `${file}: ${b.byteLength} bytes is not a whole number of float32 [96,64] patches (${PATCH_VALUES * 4} bytes each)`, { file });
  }
  const data = new Float32Array(b.byteLength / 4);
  new Uint8Array(data.buffer).set(b);
  return { data, count: data.length / PATCH_VALUES };
}

async function audioPatches(file: string, cfg: Config, modelFrontend: Partial<FrontendConfig>): Promise<{ data: Float32Array; count: number }> {
  const audio = await decodeAudioFile(file);
  const frontend: FrontendConfig = { ...cfg.frontend, ...modelFrontend };
  const p = computeLogMelPatches(audio.samples, audio.sampleRateHz, frontend);
  if (p.count === 0) {
    const seconds = (audio.samples.length / audio.sampleRateHz).toFixed(3);
    throw new EarshotError('AUDIO_FILE_EMPTY', `${file}: ${seconds} s of audio is too short for one ${frontend.patchFrames}-frame patch`, { file });
  }
  return p;
}

async function writeOut(target: string, data: Uint8Array | string): Promise<void> {
  if (target !== '-') {
    writeFileSync(target, data);
    return;
  }
  await new Promise<void>((resolve, reject) => process.stdout.write(data, (e) => (e ? reject(e) : resolve())));
}

export function registerEmbed(program: Command): void {
  program
    .command('embed')
    .description('VGGish embeddings of an audio file (or of log-mel patches): uint8 after PCA by default, float32 with --raw')
    .argument('[audio-file]', 'audio file to embed (any format decodeAudioFile reads)')
    .option('-m, --model <dir>', 'VGGish model directory (default: config models.vggishDir)')
    .option('-e, --engine <kind>', 'auto | tfjs | onnx (default: config engine.kind)')
    .option('-o, --out <file>', "output file; '-' = stdout", '-')
    .option('--raw', 'float32 [N,128] embeddings before PCA/quantisation')
    .option('--patches <file>', 'read float32 [N,96,64] log-mel patches instead of audio')
    .option('--json', 'write JSON {shape, engine, backend, embeddings} instead of binary')
    .action(
      action(async (audioFile: string | undefined, opts: EmbedOptions, cmd: Command) => {
        if (opts.engine !== undefined && !['auto', 'tfjs', 'onnx'].includes(opts.engine)) throw new EarshotError('INPUT_INVALID', `--engine must be auto, tfjs or onnx, got '${opts.engine}'`);
        if ((audioFile === undefined) === (opts.patches === undefined)) throw new EarshotError('INPUT_INVALID', 'give either an audio file or --patches file.f32 (exactly one)');
        const cfg = configFrom(cmd, {
          ...(opts.engine ? { engine: { kind: opts.engine } } : {}),
          ...(opts.model ? { models: { vggishDir: opts.model } } : {}),
        });
        // Patch files are checked before the (slow) model load so a bad file fails fast.
        const given = opts.patches !== undefined ? readPatches(opts.patches) : undefined;
        const model = await openVggish(cfg.models.vggishDir, cfg.engine);
        try {
          if (!opts.raw && !model.pca) {
            throw new EarshotError('MODEL_INVALID', `${model.dir} has no PCA params (manifest extras.pca); use --raw, or import the model with its vggish_pca_params.npz`, { dir: model.dir });
          }
          const patches = given ?? await audioPatches(audioFile!, cfg, model.frontend);
          const raw = await embedPatches(model.engine, patches.data, patches.count, cfg.engine.batchSize);
          const values: Float32Array | Uint8Array = opts.raw ? raw : postprocess(raw, patches.count, model.pca!);
          const shape = [patches.count, VGGISH_EMBEDDING_SIZE];
          const engineName = `${model.engine.kind}/${model.engine.backend}`;
          const out = opts.out ?? '-';
          if (opts.json) {
            const rows = Array.from({ length: patches.count }, (_, i) => Array.from(values.subarray(i * VGGISH_EMBEDDING_SIZE, (i + 1) * VGGISH_EMBEDDING_SIZE)));
            await writeOut(out, JSON.stringify({ shape, dtype: opts.raw ? 'float32' : 'uint8', engine: model.engine.kind, backend: model.engine.backend, embeddings: rows }) + '\n');
          } else {
            await writeOut(out, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
          }
          const info = `embeddings [${shape.join(',')}] ${opts.raw ? 'float32' : 'uint8'} via ${engineName}${out === '-' ? '' : ` -> ${out}`}\n`;
          (out === '-' ? process.stderr : process.stdout).write(info);
        } finally {
          await model.engine.dispose();
        }
      }),
    );
}
