import { readFileSync, writeFileSync } from 'node:fs';

import type { Command } from 'commander';

import { type AudioStream, openAudioStream } from '../../audio/stream.js';
import { ENGINE_KINDS } from '../../config/choices.js';
import type { Config } from '../../config/schema.js';
import type { FrontendConfig } from '../../config/sections/frontend.js';
import { EarshotError } from '../../errors.js';
import type { Patch } from '../../features/index.js';
import { patchStream } from '../../features/patch-stream.js';
import { embedPatches, openVggish, PATCH_VALUES, postprocess, VGGISH_EMBEDDING_SIZE } from '../../models/vggish/index.js';
import { action, configFrom, definedOnly } from '../common.js';

interface EmbedOptions {
  model?: string;
  engine?: string;
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

/** Patches embedded per engine call on the streamed path: bounds the patch buffer (~25 KB each). */
const STREAM_BATCH_PATCHES = 64;

/**
 * Raw embeddings of an audio file, streamed: blocks in, patches embedded a batch at a
 * time, so memory holds a batch of patches and the (128 floats per 0.96 s) embeddings.
 */
async function embedAudio(
  file: string,
  audio: AudioStream,
  cfg: Config,
  model: { engine: Parameters<typeof embedPatches>[0]; frontend: Partial<FrontendConfig> },
): Promise<{ raw: Float32Array; count: number }> {
  // openModel validated the manifest's frontend overrides.
  const frontend: FrontendConfig = { ...cfg.frontend, ...model.frontend };
  const parts: Float32Array[] = [];
  let count = 0;
  let samples = 0;
  let pending: Patch[] = [];
  const flush = async (all: boolean): Promise<void> => {
    while (pending.length >= STREAM_BATCH_PATCHES || (all && pending.length > 0)) {
      const batch = pending.splice(0, STREAM_BATCH_PATCHES);
      const data = new Float32Array(batch.length * PATCH_VALUES);
      batch.forEach((p, i) => data.set(p.data, i * PATCH_VALUES));
      parts.push(await embedPatches(model.engine, data, batch.length, cfg.engine.batchSize));
      count += batch.length;
    }
  };
  const counted = async function* () {
    for await (const b of audio.blocks()) {
      samples += b.length;
      yield b;
    }
  };
  for await (const batch of patchStream(counted(), audio.sampleRateHz, frontend)) {
    pending.push(...batch);
    await flush(false);
  }
  await flush(true);
  pending = [];
  if (count === 0) {
    const seconds = (samples / audio.sampleRateHz).toFixed(3);
    throw new EarshotError('AUDIO_FILE_EMPTY', `${file}: ${seconds} s of audio is too short for one ${frontend.patchFrames}-frame patch`, { file });
  }
  const raw = new Float32Array(count * VGGISH_EMBEDDING_SIZE);
  let at = 0;
  for (const p of parts) {
    raw.set(p, at);
    at += p.length;
  }
  return { raw, count };
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
    .argument('[audio-file]', 'audio file to embed (any format decodeAudioFile reads; - = stdin through ffmpeg)')
    .option('-m, --model <dir>', 'VGGish model directory (default: config models.vggishDir)')
    .option('-e, --engine <kind>', `${ENGINE_KINDS.join(' | ')} (default: config engine.kind)`)
    .option('-o, --out <file>', "output file; '-' = stdout", '-')
    .option('--raw', 'float32 [N,128] embeddings before PCA/quantisation')
    .option('--patches <file>', 'read float32 [N,96,64] log-mel patches instead of audio')
    .option('--json', 'write JSON {shape, engine, backend, embeddings} instead of binary')
    .action(
      action(async (audioFile: string | undefined, opts: EmbedOptions, cmd: Command) => {
        if ((audioFile === undefined) === (opts.patches === undefined)) throw new EarshotError('INPUT_INVALID', 'give either an audio file or --patches file.f32 (exactly one)');
        const cfg = configFrom(cmd, definedOnly({ engine: { kind: opts.engine }, models: { vggishDir: opts.model } }), { 'engine.kind': '--engine', 'models.vggishDir': '--model' });
        // Patch files are checked before the (slow) model load so a bad file fails fast.
        const given = opts.patches !== undefined ? readPatches(opts.patches) : undefined;
        // Audio is opened (header read, decoder started) before the model load for the same reason.
        const audio = given ? undefined : await openAudioStream(audioFile!);
        const model = await openVggish(cfg.models.vggishDir, cfg.engine).catch((e: unknown) => {
          audio?.close();
          throw e;
        });
        try {
          if (!opts.raw && !model.pca) {
            throw new EarshotError('MODEL_INVALID', `${model.dir} has no PCA params (manifest extras.pca); use --raw, or import the model with its vggish_pca_params.npz`, { dir: model.dir });
          }
          const { raw, count } = given
            ? { raw: await embedPatches(model.engine, given.data, given.count, cfg.engine.batchSize), count: given.count }
            : await embedAudio(audioFile!, audio!, cfg, model);
          const values: Float32Array | Uint8Array = opts.raw ? raw : postprocess(raw, count, model.pca!);
          const shape = [count, VGGISH_EMBEDDING_SIZE];
          const engineName = `${model.engine.kind}/${model.engine.backend}`;
          const out = opts.out ?? '-';
          if (opts.json) {
            const rows = Array.from({ length: count }, (_, i) => Array.from(values.subarray(i * VGGISH_EMBEDDING_SIZE, (i + 1) * VGGISH_EMBEDDING_SIZE)));
            await writeOut(out, JSON.stringify({ shape, dtype: opts.raw ? 'float32' : 'uint8', engine: model.engine.kind, backend: model.engine.backend, embeddings: rows }) + '\n');
          } else {
            await writeOut(out, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
          }
          const info = `embeddings [${shape.join(',')}] ${opts.raw ? 'float32' : 'uint8'} via ${engineName}${out === '-' ? '' : ` -> ${out}`}\n`;
          (out === '-' ? process.stderr : process.stdout).write(info);
        } finally {
          audio?.close();
          await model.engine.dispose();
        }
      }),
    );
}
