import { readFile, stat } from 'node:fs/promises';

import decodeEncoded from 'audio-decode';

import { EarshotError, type ErrorCode, isEarshotError } from '../errors.js';
import { type DecodedAudio, MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ } from './contracts.js';
import { averagePlanar, countNonFinite } from './pcm.js';
import { collectProcess, defaultSpawn, type SpawnLike } from './process.js';
import { decodeFloat32Wav, decodeWavSamples, isRiffWave, parseWav, type WavLayout } from './wav.js';

export interface DecodeOptions {
  /** ffmpeg binary for formats nothing in-process decodes (default "ffmpeg" on PATH). */
  readonly ffmpegPath?: string;
  readonly spawnImpl?: SpawnLike;
}

function fail(code: ErrorCode, file: string, message: string, details: Record<string, unknown> = {}, cause?: unknown): EarshotError {
  return new EarshotError(code, `${file}: ${message}`, { file, ...details }, cause === undefined ? undefined : { cause });
}

async function readAudioBytes(file: string): Promise<Uint8Array> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw fail('AUDIO_FILE_NOT_FOUND', file, 'not a regular file');
    size = st.size;
  } catch (e) {
    if (e instanceof EarshotError) throw e;
    throw fail('AUDIO_FILE_NOT_FOUND', file, 'audio file not found', {}, e);
  }
  if (size === 0) throw fail('AUDIO_FILE_EMPTY', file, 'audio file is empty (0 bytes)');
  try {
    return new Uint8Array(await readFile(file));
  } catch (e) {
    throw fail('AUDIO_FILE_NOT_FOUND', file, `cannot read audio file: ${(e as Error).message}`, {}, e);
  }
}

function nonEmpty(file: string, audio: DecodedAudio): DecodedAudio {
  if (audio.samples.length === 0) throw fail('AUDIO_FILE_EMPTY', file, 'audio file contains 0 samples');
  if (!(audio.sampleRateHz > 0)) throw fail('AUDIO_DECODE_FAILED', file, `decoder reported sample rate ${audio.sampleRateHz}`);
  if (audio.sampleRateHz < MIN_SAMPLE_RATE_HZ || audio.sampleRateHz > MAX_SAMPLE_RATE_HZ) {
    throw fail('AUDIO_HEADER_INVALID', file, `sample rate ${audio.sampleRateHz} Hz is outside ${MIN_SAMPLE_RATE_HZ}..${MAX_SAMPLE_RATE_HZ} Hz`, { sampleRateHz: audio.sampleRateHz });
  }
  return audio;
}

function fromWavLayout(layout: WavLayout): DecodedAudio {
  return withNonFinite({ samples: decodeWavSamples(layout), sampleRateHz: layout.sampleRateHz, channels: layout.channels }, nonFiniteInFloatData(layout));
}

/** NaN/±Inf values in a float WAV's data (integer PCM cannot hold one). */
function nonFiniteInFloatData(layout: WavLayout): number {
  if (layout.kind !== 'float' || (layout.bitsPerSample !== 32 && layout.bitsPerSample !== 64)) return 0;
  const bytes = layout.bitsPerSample / 8;
  const view = new DataView(layout.data.buffer, layout.data.byteOffset, layout.data.byteLength);
  let n = 0;
  for (let o = 0; o + bytes <= view.byteLength; o += bytes) if (!Number.isFinite(bytes === 4 ? view.getFloat32(o, true) : view.getFloat64(o, true))) n++;
  return n;
}

function withNonFinite(audio: DecodedAudio, n: number): DecodedAudio {
  return n > 0 ? { ...audio, nonFiniteSamples: n } : audio;
}

/** Messages ffmpeg prints when it has no decoder for the stream it found. */
const FFMPEG_NO_DECODER = /Decoder \(codec [^)]*\) not found|matches no streams|could not find codec parameters|unknown (codec|format)|unsupported codec|does not contain any stream/i;

/**
 * ffmpeg failed before decoding anything: it could not open/identify the input
 * (it then prints "<input>: <reason>" as the last line) or found no decoder.
 * Failures while decoding print "Error while decoding stream ..." instead.
 */
export function ffmpegFoundNoCodec(file: string, stderr: readonly string[]): boolean {
  const last = stderr[stderr.length - 1] ?? '';
  return last.startsWith(`${file}: `) || stderr.some((l) => FFMPEG_NO_DECODER.test(l));
}

/**
 * Decodes via `ffmpeg ... -f wav -c:a pcm_f32le pipe:1` and reads the result with the
 * same WAV parser (ffmpeg's piped WAV declares size 0xFFFFFFFF; parseWav accepts that).
 * Channel count and rate come from that header, and the mono mix stays ours.
 */
async function decodeWithFfmpeg(file: string, opts: DecodeOptions): Promise<DecodedAudio> {
  const ffmpeg = opts.ffmpegPath ?? 'ffmpeg';
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-i', file, '-map', '0:a:0', '-vn', '-f', 'wav', '-c:a', 'pcm_f32le', 'pipe:1'];
  const r = await collectProcess(opts.spawnImpl ?? defaultSpawn, ffmpeg, args);
  if (r.spawnError) {
    const why = r.spawnError.code === 'ENOENT' ? `ffmpeg not found (${ffmpeg})` : `cannot run ffmpeg (${ffmpeg}): ${r.spawnError.message}`;
    throw fail('AUDIO_CODEC_UNSUPPORTED', file, `no in-process decoder for this format and ${why}`, { ffmpeg }, r.spawnError);
  }
  const last = r.stderr[r.stderr.length - 1] ?? '';
  if (r.code !== 0) {
    const unsupported = ffmpegFoundNoCodec(file, r.stderr);
    const code: ErrorCode = unsupported ? 'AUDIO_CODEC_UNSUPPORTED' : 'AUDIO_DECODE_FAILED';
    const what = unsupported ? 'unsupported audio format/codec' : 'decoding failed';
    throw fail(code, file, `${what}: ffmpeg exited ${r.code ?? r.signal}: ${last}`, { ffmpeg, stderr: r.stderr });
  }
  let layout: WavLayout;
  try {
    layout = parseWav(r.stdout, `${file} (ffmpeg output)`);
  } catch (e) {
    throw fail('AUDIO_DECODE_FAILED', file, `ffmpeg produced no decodable audio: ${(e as Error).message}`, { ffmpeg, stderr: r.stderr }, e);
  }
  if (layout.kind !== 'float' || layout.bitsPerSample !== 32) throw fail('AUDIO_DECODE_FAILED', file, `ffmpeg output is not float32 WAV (tag ${layout.formatTag}, ${layout.bitsPerSample} bits)`);
  return withNonFinite({ samples: decodeFloat32Wav(layout), sampleRateHz: layout.sampleRateHz, channels: layout.channels }, nonFiniteInFloatData(layout));
}

/** Bytes taken by a leading ID3v2 tag (some FLAC files carry one), else 0. */
function id3v2Length(b: Uint8Array): number {
  if (b.length < 10 || b[0] !== 0x49 || b[1] !== 0x44 || b[2] !== 0x33) return 0;
  const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
  return 10 + size + (b[5]! & 0x10 ? 10 : 0);
}

/** Bits per sample from a native FLAC stream's STREAMINFO (always the first metadata block), or null. */
export function flacBitsPerSample(bytes: Uint8Array): number | null {
  const o = id3v2Length(bytes);
  if (bytes.length < o + 22 || bytes[o] !== 0x66 || bytes[o + 1] !== 0x4c || bytes[o + 2] !== 0x61 || bytes[o + 3] !== 0x43) return null;
  if ((bytes[o + 4]! & 0x7f) !== 0) return null;
  return (((bytes[o + 20]! & 1) << 4) | (bytes[o + 21]! >> 4)) + 1;
}

/**
 * audio-decode's FLAC decoder scales int samples by 1/(2^(b-1)-1); VGGish parity needs
 * 1/2^(b-1) (int16/32768). Recover the integer (exact for <= 16 bits, within 1 LSB at
 * 24 bits where float32 runs out of mantissa) and rescale, in place.
 */
function fixFlacScale(channels: readonly Float32Array[], bits: number): void {
  const decoderMax = 2 ** (bits - 1) - 1;
  const scale = 2 ** -(bits - 1);
  for (const ch of channels) for (let i = 0; i < ch.length; i++) ch[i] = Math.round(ch[i]! * decoderMax) * scale;
}

async function decodeWithAudioDecode(bytes: Uint8Array): Promise<DecodedAudio> {
  const r = await decodeEncoded(bytes);
  const flacBits = flacBitsPerSample(bytes);
  if (flacBits !== null) fixFlacScale(r.channelData, flacBits);
  const nonFinite = r.channelData.reduce((n, ch) => n + countNonFinite(ch), 0);
  const samples = averagePlanar(r.channelData);
  return withNonFinite({ samples, sampleRateHz: r.sampleRate, channels: r.channelData.length }, nonFinite);
}

/** audio-decode's own words for "I do not know this format" (anything else means it tried and failed). */
const AUDIO_DECODE_UNKNOWN = /Unknown audio format|No decoder for/;

/**
 * Decodes a whole audio file to mono float32 at the file's own rate.
 * WAV (PCM 8/16/24/32-bit, float32/64, WAVE_FORMAT_EXTENSIBLE) is read directly (wav.ts);
 * FLAC/MP3/Ogg Vorbis/Opus/AAC/M4A through audio-decode (WASM, no native deps);
 * anything else (and anything those reject) through ffmpeg.
 * Opus always decodes at 48 kHz (the codec's only output rate); raw ADTS AAC
 * may come back at twice the coded rate when the decoder applies implicit SBR.
 */
export async function decodeAudioFile(file: string, opts: DecodeOptions = {}): Promise<DecodedAudio> {
  const bytes = await readAudioBytes(file);
  if (isRiffWave(bytes)) {
    const layout = parseWav(bytes, file);
    if (layout.kind !== null) {
      if (layout.data.length === 0) throw fail('AUDIO_FILE_EMPTY', file, 'WAV data chunk holds 0 samples');
      return nonEmpty(file, fromWavLayout(layout));
    }
    // A codec inside WAV (A-law, mu-law, ADPCM, ...): ffmpeg knows most of them.
    return nonEmpty(
      file,
      await decodeWithFfmpeg(file, opts).catch((e: unknown) => {
        if (!isEarshotError(e, 'AUDIO_CODEC_UNSUPPORTED')) throw e;
        throw fail(
          'AUDIO_CODEC_UNSUPPORTED',
          file,
          `WAV format tag 0x${layout.formatTag.toString(16).padStart(4, '0')} is not supported (${(e as Error).message})`,
          { formatTag: layout.formatTag },
          e,
        );
      }),
    );
  }
  let inProcessError: unknown;
  try {
    const audio = await decodeWithAudioDecode(bytes);
    // Nothing decoded is not proof of an empty file: let ffmpeg have a go before saying so.
    if (audio.samples.length > 0 && audio.sampleRateHz > 0) return nonEmpty(file, audio);
    inProcessError = new Error(`audio-decode returned ${audio.samples.length} samples at ${audio.sampleRateHz} Hz`);
  } catch (e) {
    inProcessError = e;
  }
  const unknown = AUDIO_DECODE_UNKNOWN.test(String((inProcessError as Error)?.message ?? inProcessError));
  try {
    return nonEmpty(file, await decodeWithFfmpeg(file, opts));
  } catch (e) {
    if (e instanceof EarshotError && (unknown || e.code !== 'AUDIO_CODEC_UNSUPPORTED')) throw e;
    // audio-decode recognised the container but could not decode it, and ffmpeg could not either.
    const ffmpegSaid = e instanceof EarshotError && Array.isArray(e.details.stderr) ? String(e.details.stderr.at(-1) ?? '') : (e as Error).message;
    throw fail('AUDIO_DECODE_FAILED', file, `decoding failed (audio-decode: ${String((inProcessError as Error)?.message ?? inProcessError)}; ffmpeg: ${ffmpegSaid})`, {}, e);
  }
}
