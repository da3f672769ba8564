import type { ChildProcess } from 'node:child_process';

import { EarshotError, type ErrorCode } from '../errors.js';
import { ffmpegFoundNoCodec } from './decode.js';
import { defaultSpawn, type SpawnLike, stderrTail } from './process.js';
import type { AudioStream } from './stream.js';
import { decodeWavSamples, isRiffWave, parseWav, type WavLayout } from './wav.js';

/**
 * Any format ffmpeg reads, decoded by an ffmpeg child to float32 WAV on a pipe and read
 * as it arrives: memory holds one pipe chunk, whatever the input's length, because the
 * pipe is only read as fast as the caller consumes blocks (ffmpeg waits on a full pipe).
 * The WAV header gives the native rate and channel count; the mono mix and the resampler
 * stay ours, as on the whole-file path.
 */
export interface FfmpegStreamOptions {
  readonly ffmpegPath?: string;
  readonly spawnImpl?: SpawnLike;
}

/** Bytes of ffmpeg output read before giving up on finding its WAV header. */
const HEADER_LIMIT_BYTES = 1 << 16;

type Input = { readonly file: string } | { readonly stdin: true };

function nameOf(input: Input): string {
  return 'file' in input ? input.file : '-';
}

function spawnFfmpeg(input: Input, opts: FfmpegStreamOptions): ChildProcess {
  const ffmpeg = opts.ffmpegPath ?? 'ffmpeg';
  const src = 'file' in input ? input.file : 'pipe:0';
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', src, '-map', '0:a:0', '-vn', '-f', 'wav', '-c:a', 'pcm_f32le', 'pipe:1'];
  // -nostdin stops ffmpeg reading keys from stdin; "-i pipe:0" still reads the data from fd 0.
  if ('stdin' in input) args.shift();
  return (opts.spawnImpl ?? defaultSpawn)(ffmpeg, args, { stdio: ['stdin' in input ? 'inherit' : 'ignore', 'pipe', 'pipe'] });
}

/** Error for an ffmpeg that could not start, or exited before or while decoding. */
function ffmpegError(name: string, ffmpeg: string, r: { spawnError?: NodeJS.ErrnoException; code: number | null; signal: string | null; stderr: readonly string[] }): EarshotError {
  if (r.spawnError) {
    const why = r.spawnError.code === 'ENOENT' ? `ffmpeg not found (${ffmpeg})` : `cannot run ffmpeg (${ffmpeg}): ${r.spawnError.message}`;
    return new EarshotError('AUDIO_CODEC_UNSUPPORTED', `${name}: streamed decoding needs ffmpeg: ${why}`, { file: name, ffmpeg, spawnCode: r.spawnError.code }, { cause: r.spawnError });
  }
  const unsupported = ffmpegFoundNoCodec(name === '-' ? 'pipe:0' : name, r.stderr);
  const code: ErrorCode = unsupported ? 'AUDIO_CODEC_UNSUPPORTED' : 'AUDIO_DECODE_FAILED';
  const what = unsupported ? 'unsupported audio format/codec' : 'decoding failed';
  return new EarshotError(code, `${name}: ${what}: ffmpeg exited ${r.code ?? r.signal}: ${r.stderr.at(-1) ?? ''}`, { file: name, ffmpeg, stderr: r.stderr });
}

/**
 * Starts ffmpeg and waits for its WAV header (so rate and channels are known, and a
 * file ffmpeg cannot open fails here, before any model is loaded). `blocks()` then
 * yields mono float32 blocks; it throws AUDIO_FILE_EMPTY if nothing was decoded, and the
 * ffmpeg error if it fails part-way. Breaking out of the iteration kills the child.
 */
export async function ffmpegAudioStream(input: Input, opts: FfmpegStreamOptions = {}): Promise<AudioStream> {
  const name = nameOf(input);
  const ffmpeg = opts.ffmpegPath ?? 'ffmpeg';
  let child: ChildProcess;
  try {
    child = spawnFfmpeg(input, opts);
  } catch (e) {
    throw ffmpegError(name, ffmpeg, { spawnError: e as NodeJS.ErrnoException, code: null, signal: null, stderr: [] });
  }
  const tail = stderrTail();
  child.stderr?.on('data', (d: Buffer) => tail.push(d));
  let spawnError: NodeJS.ErrnoException | undefined;
  child.on('error', (e: NodeJS.ErrnoException) => (spawnError = e));
  const closed = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const failure = async (): Promise<EarshotError> => ffmpegError(name, ffmpeg, { ...(await closed), stderr: tail.lines(), ...(spawnError ? { spawnError } : {}) });
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) child.kill('SIGKILL');
  };

  const chunks = child.stdout![Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  let layout: WavLayout | undefined;
  try {
    while (layout === undefined) {
      const next = await chunks.next();
      if (next.done) throw await failure();
      head = Buffer.concat([head, next.value]);
      if (!isRiffWave(head)) {
        if (head.length >= 12) throw new EarshotError('AUDIO_DECODE_FAILED', `${name}: ffmpeg output is not WAV`, { file: name });
        continue;
      }
      try {
        layout = parseWav(head, `${name} (ffmpeg output)`);
      } catch (e) {
        // The data chunk's header has not arrived yet: read on, up to a bound.
        if (head.length > HEADER_LIMIT_BYTES) throw new EarshotError('AUDIO_DECODE_FAILED', `${name}: ffmpeg produced no decodable audio: ${(e as Error).message}`, { file: name }, { cause: e });
      }
    }
  } catch (e) {
    kill();
    throw e;
  }
  const found = layout;
  if (found.kind !== 'float' || found.bitsPerSample !== 32) {
    kill();
    throw new EarshotError('AUDIO_DECODE_FAILED', `${name}: ffmpeg output is not float32 WAV (tag ${found.formatTag}, ${found.bitsPerSample} bits)`, { file: name });
  }
  const first = Buffer.from(head.subarray(found.data.byteOffset - head.byteOffset));
  let used = false;
  return {
    sampleRateHz: found.sampleRateHz,
    channels: found.channels,
    async *blocks() {
      if (used) throw new EarshotError('INTERNAL', `${name}: an ffmpeg audio stream is read once`);
      used = true;
      let rest: Buffer = first;
      let frames = 0;
      try {
        for (;;) {
          const whole = rest.length - (rest.length % found.blockAlign);
          if (whole > 0) {
            const block = decodeWavSamples({ ...found, data: rest.subarray(0, whole) });
            frames += block.length;
            rest = Buffer.from(rest.subarray(whole));
            yield block;
          }
          const next = await chunks.next();
          if (next.done) break;
          rest = rest.length ? Buffer.concat([rest, next.value]) : next.value;
        }
        const end = await closed;
        if (end.code !== 0 || spawnError) throw await failure();
        if (frames === 0) throw new EarshotError('AUDIO_FILE_EMPTY', `${name}: audio contains 0 samples`, { file: name });
      } finally {
        kill();
      }
    },
    close: kill,
  };
}
