import { EarshotError } from '../errors.js';
import { MAX_SAMPLE_RATE_HZ, MIN_SAMPLE_RATE_HZ } from './contracts.js';
import { averageInterleaved } from './pcm.js';

const TAG_PCM = 1;
const TAG_FLOAT = 3;
const TAG_EXTENSIBLE = 0xfffe;
/** KSDATAFORMAT_SUBTYPE_* GUIDs share these 14 bytes after the 2-byte format tag. */
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

export type WavSampleKind = 'pcm' | 'float';

/**
 * A RIFF/WAVE file's layout. `data` holds only whole frames that are actually in
 * the file; `truncated` says the data chunk declared more bytes than exist.
 */
export interface WavLayout {
  readonly formatTag: number;
  /** 'pcm'/'float' we decode here; null = a codec inside WAV (A-law, ADPCM, MP3...) for the fallback. */
  readonly kind: WavSampleKind | null;
  readonly channels: number;
  readonly sampleRateHz: number;
  readonly bitsPerSample: number;
  readonly blockAlign: number;
  readonly data: Uint8Array;
  readonly declaredDataBytes: number;
  readonly truncated: boolean;
}

function fourcc(b: Uint8Array, at: number): string {
  return String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);
}

/** True for little-endian RIFF/WAVE, the only WAV flavour parsed here (RIFX/RF64 go to ffmpeg). */
export function isRiffWave(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && fourcc(bytes, 0) === 'RIFF' && fourcc(bytes, 8) === 'WAVE';
}

function headerError(file: string, why: string, details: Record<string, unknown> = {}): EarshotError {
  return new EarshotError('AUDIO_HEADER_INVALID', `${file}: invalid WAV header: ${why}`, { file, ...details });
}

function sampleKind(tag: number, fmt: DataView, fmtSize: number): { tag: number; kind: WavSampleKind | null } {
  let effective = tag;
  if (tag === TAG_EXTENSIBLE) {
    // cbSize >= 22 carries validBits, channel mask and the 16-byte subformat GUID.
    if (fmtSize < 40 || fmt.getUint16(16, true) < 22) return { tag, kind: null };
    effective = fmt.getUint16(24, true);
    for (let i = 0; i < GUID_TAIL.length; i++) if (fmt.getUint8(26 + i) !== GUID_TAIL[i]) return { tag, kind: null };
  }
  if (effective === TAG_PCM) return { tag: effective, kind: 'pcm' };
  if (effective === TAG_FLOAT) return { tag: effective, kind: 'float' };
  return { tag: effective, kind: null };
}

/**
 * Walks the RIFF chunks. Decision on truncation: a data chunk that declares more
 * bytes than the file holds is accepted and the whole frames present are decoded,
 * because recorders killed mid-write (and ffmpeg writing WAV to a pipe, size
 * 0xFFFFFFFF) produce exactly that and sox/libsndfile/ffmpeg all read them.
 * A fmt chunk that is missing, too short, cut off by EOF or self-inconsistent, or a
 * missing data chunk, is AUDIO_HEADER_INVALID: there is no safe way to interpret the bytes.
 */
export function parseWav(bytes: Uint8Array, file: string): WavLayout {
  if (!isRiffWave(bytes)) throw headerError(file, 'missing RIFF/WAVE signature');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: DataView | null = null;
  let fmtSize = 0;
  let dataStart = -1;
  let declared = 0;
  let off = 12;
  while (off + 8 <= bytes.length) {
    const id = fourcc(bytes, off);
    const size = view.getUint32(off + 4, true);
    const body = off + 8;
    if (id === 'fmt ') {
      if (size < 16) throw headerError(file, `fmt chunk is ${size} bytes (need >= 16)`, { fmtBytes: size });
      if (body + size > bytes.length) throw headerError(file, `fmt chunk runs past end of file (${size} bytes declared at offset ${off}, file is ${bytes.length})`);
      fmt = new DataView(bytes.buffer, bytes.byteOffset + body, size);
      fmtSize = size;
    } else if (id === 'data') {
      dataStart = body;
      declared = size;
      if (body + size > bytes.length) break; // truncated data: nothing valid can follow it
    }
    off = body + size + (size & 1);
  }
  if (fmt === null) throw headerError(file, 'no fmt chunk');
  if (dataStart < 0) throw headerError(file, 'no data chunk');
  const formatTag = fmt.getUint16(0, true);
  const channels = fmt.getUint16(2, true);
  const sampleRateHz = fmt.getUint32(4, true);
  const blockAlign = fmt.getUint16(12, true);
  const bitsPerSample = fmt.getUint16(14, true);
  if (channels === 0) throw headerError(file, 'fmt declares 0 channels');
  if (sampleRateHz < MIN_SAMPLE_RATE_HZ || sampleRateHz > MAX_SAMPLE_RATE_HZ) {
    throw headerError(file, `sample rate ${sampleRateHz} Hz is outside ${MIN_SAMPLE_RATE_HZ}..${MAX_SAMPLE_RATE_HZ} Hz`, { sampleRateHz });
  }
  const { tag, kind } = sampleKind(formatTag, fmt, fmtSize);
  if (kind !== null) {
    const validBits = kind === 'pcm' ? [8, 16, 24, 32] : [32, 64];
    if (!validBits.includes(bitsPerSample)) {
      throw new EarshotError('AUDIO_CODEC_UNSUPPORTED', `${file}: ${bitsPerSample}-bit ${kind} WAV samples are not supported`, { file, bitsPerSample, formatTag });
    }
    if (blockAlign !== channels * (bitsPerSample / 8)) {
      throw headerError(file, `blockAlign ${blockAlign} != ${channels} channels x ${bitsPerSample / 8} bytes`, { blockAlign, channels, bitsPerSample });
    }
  }
  const available = Math.max(0, Math.min(declared, bytes.length - dataStart));
  const usable = blockAlign > 0 ? available - (available % blockAlign) : available;
  return {
    formatTag: tag,
    kind,
    channels,
    sampleRateHz,
    bitsPerSample,
    blockAlign,
    data: bytes.subarray(dataStart, dataStart + usable),
    declaredDataBytes: declared,
    truncated: declared > available,
  };
}

/** Integer PCM -> float: unsigned 8-bit is offset by 128; int16 uses 1/32768 for VGGish parity. */
function scaleFor(layout: WavLayout): { scale: number; offset: number } {
  if (layout.kind === 'float') return { scale: 1, offset: 0 };
  if (layout.bitsPerSample === 8) return { scale: 1 / 128, offset: 128 };
  return { scale: 2 ** -(layout.bitsPerSample - 1), offset: 0 };
}

/**
 * The interleaved raw sample values of a PCM/float layout, read as little-endian
 * whatever the host (8-bit is unsigned; 24-bit is sign-extended into an Int32Array).
 */
function interleavedSamples(layout: WavLayout): ArrayLike<number> {
  const { data, bitsPerSample: bits } = layout;
  const n = Math.floor(data.length / layout.blockAlign) * layout.channels;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (layout.kind === 'float') {
    const out = bits === 32 ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = bits === 32 ? v.getFloat32(i * 4, true) : v.getFloat64(i * 8, true);
    return out;
  }
  if (bits === 8) return data.subarray(0, n);
  if (bits === 16) {
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = v.getInt16(i * 2, true);
    return out;
  }
  const out = new Int32Array(n);
  if (bits === 32) for (let i = 0; i < n; i++) out[i] = v.getInt32(i * 4, true);
  else for (let i = 0, k = 0; i < n; i++, k += 3) out[i] = ((data[k]! | (data[k + 1]! << 8) | (data[k + 2]! << 16)) << 8) >> 8;
  return out;
}

/** Decodes a PCM/float layout to mono float32 (channel mean, non-finite samples as 0). */
export function decodeWavSamples(layout: WavLayout): Float32Array {
  if (layout.kind === null) throw new Error('decodeWavSamples needs a PCM or float layout');
  const { scale, offset } = scaleFor(layout);
  return averageInterleaved(interleavedSamples(layout), layout.channels, scale, offset);
}

/** The pcm_f32le WAV that ffmpeg pipes to us (our own intermediate format). */
export function decodeFloat32Wav(layout: WavLayout): Float32Array {
  if (layout.kind !== 'float' || layout.bitsPerSample !== 32) throw new Error('decodeFloat32Wav needs a float32 layout');
  return decodeWavSamples(layout);
}

/** Mono 16-bit PCM WAV of float samples in [-1, 1] (clipped): the format `earshot learn` reads back. */
export function encodeWav16(x: Float32Array, rateHz: number): Buffer {
  const buf = Buffer.alloc(44 + x.length * 2);
  buf.write('RIFF', 0);
  buf.writeUInt32LE(36 + x.length * 2, 4);
  buf.write('WAVEfmt ', 8);
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20);
  buf.writeUInt16LE(1, 22);
  buf.writeUInt32LE(rateHz, 24);
  buf.writeUInt32LE(rateHz * 2, 28);
  buf.writeUInt16LE(2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36);
  buf.writeUInt32LE(x.length * 2, 40);
  for (let i = 0; i < x.length; i++) buf.writeInt16LE(Math.round(Math.max(-1, Math.min(1, x[i]!)) * 32767), 44 + i * 2);
  return buf;
}
