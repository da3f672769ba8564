import { open, stat } from 'node:fs/promises';

import { EarshotError } from '../errors.js';
import { decodeAudioFile, type DecodeOptions } from './decode.js';
import { ffmpegAudioStream } from './ffmpeg-stream.js';
import { createS16leDecoder } from './pcm.js';
import { decodeWavSamples, isRiffWave, parseWav, type WavLayout } from './wav.js';

/**
 * A file's audio as bounded mono float32 blocks at its own rate, for the offline
 * commands (`tag`, `features`, `embed`): memory does not grow with the file's length.
 * PCM/float WAV is read from disk block by block; other files larger than
 * `streamAboveBytes` are decoded by an ffmpeg child and read from its pipe as consumed;
 * smaller ones are decoded whole by decodeAudioFile (in-process decoders, no ffmpeg
 * needed) and handed out in blocks. Standard input (`-`) always goes through ffmpeg.
 */
export interface AudioStream {
  readonly sampleRateHz: number;
  readonly channels: number;
  /** Yields blocks the caller owns; ends after the last sample. Iterate once. */
  blocks(): AsyncGenerator<Float32Array>;
  /** Releases a stream that will not be read to its end (kills an ffmpeg decoder); idempotent. */
  close(): void;
}

/** Header bytes read to find fmt and data: chunks before data (LIST, bext…) rarely exceed this. */
const HEADER_PROBE_BYTES = 1 << 20;
/** Frames per block read from disk (4 s at 16 kHz). */
const BLOCK_FRAMES = 65536;

function empty(file: string): EarshotError {
  return new EarshotError('AUDIO_FILE_EMPTY', `${file}: audio file contains 0 samples`, { file });
}

async function wavStream(file: string, size: number): Promise<AudioStream | null> {
  const fh = await open(file, 'r');
  let layout: WavLayout;
  let probe: Uint8Array;
  try {
    const buf = Buffer.alloc(Math.min(size, HEADER_PROBE_BYTES));
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    probe = buf.subarray(0, bytesRead);
    if (!isRiffWave(probe)) return null;
    try {
      layout = parseWav(probe, file);
    } catch (e) {
      // A header the probe could not hold (data chunk before fmt, huge leading chunks): decode whole.
      if (size > probe.length) return null;
      throw e;
    }
  } finally {
    await fh.close();
  }
  if (layout.kind === null) return null;
  const dataStart = layout.data.byteOffset - probe.byteOffset;
  const available = Math.max(0, Math.min(layout.declaredDataBytes, size - dataStart));
  const dataBytes = available - (available % layout.blockAlign);
  if (dataBytes === 0) throw new EarshotError('AUDIO_FILE_EMPTY', `${file}: WAV data chunk holds 0 samples`, { file });
  const blockBytes = BLOCK_FRAMES * layout.blockAlign;
  return {
    sampleRateHz: layout.sampleRateHz,
    channels: layout.channels,
    async *blocks() {
      const h = await open(file, 'r');
      try {
        const buf = Buffer.alloc(blockBytes);
        for (let off = 0; off < dataBytes; off += blockBytes) {
          const want = Math.min(blockBytes, dataBytes - off);
          const { bytesRead } = await h.read(buf, 0, want, dataStart + off);
          const whole = bytesRead - (bytesRead % layout.blockAlign);
          if (whole === 0) break; // the file shrank under us: stop at its last whole frame
          yield decodeWavSamples({ ...layout, data: buf.subarray(0, whole) });
          if (bytesRead < want) break;
        }
      } finally {
        await h.close();
      }
    },
    close: () => undefined,
  };
}

export interface AudioStreamOptions extends DecodeOptions {
  /** Encoded (non-WAV) files above this size stream through ffmpeg (default 16 MiB, ~15 min of 128 kbit/s MP3). */
  readonly streamAboveBytes?: number;
}

const STREAM_ABOVE_BYTES = 16 << 20;

export async function openAudioStream(file: string, opts: AudioStreamOptions = {}): Promise<AudioStream> {
  if (file === '-') return ffmpegAudioStream({ stdin: true }, opts);
  let size = 0;
  try {
    const st = await stat(file);
    if (st.isFile()) size = st.size;
  } catch {
    // decodeAudioFile below reports the missing file with its usual code and message.
  }
  const wav = size > 0 ? await wavStream(file, size) : null;
  if (wav) return wav;
  if (size > (opts.streamAboveBytes ?? STREAM_ABOVE_BYTES)) {
    // Without a working ffmpeg (or if it cannot read the file) the whole-file decoders
    // below still apply, with their usual errors: memory then grows with the file.
    const streamed = await ffmpegAudioStream({ file }, opts).catch(() => null);
    if (streamed) return streamed;
  }
  const audio = await decodeAudioFile(file, opts);
  if (audio.samples.length === 0) throw empty(file);
  return {
    sampleRateHz: audio.sampleRateHz,
    channels: audio.channels,
    async *blocks() {
      for (let i = 0; i < audio.samples.length; i += BLOCK_FRAMES) yield audio.samples.subarray(i, i + BLOCK_FRAMES);
    },
    close: () => undefined,
  };
}

/** Headerless s16le mono PCM from a byte stream (`tag - --raw s16le --rate N`), block by block as it arrives. */
export function rawPcmStream(input: AsyncIterable<Buffer | string>, o: { readonly sampleRateHz: number }): AudioStream {
  return {
    sampleRateHz: o.sampleRateHz,
    channels: 1,
    async *blocks() {
      const decoder = createS16leDecoder();
      let n = 0;
      for await (const chunk of input) {
        const samples = decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        n += samples.length;
        if (samples.length) yield samples;
      }
      if (n === 0) throw new EarshotError('AUDIO_FILE_EMPTY', '-: stdin held 0 samples', { file: '-' });
    },
    close: () => undefined,
  };
}
