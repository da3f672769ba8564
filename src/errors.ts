/**
 * Every failure a user can cause surfaces as an EarshotError with a stable
 * `code` (documented in README) so scripts and WebSocket clients can branch
 * on it without parsing messages.
 */
export type ErrorCode =
  | 'CONFIG_INVALID'
  | 'CONFIG_NOT_FOUND'
  | 'AUDIO_FILE_NOT_FOUND'
  | 'AUDIO_FILE_EMPTY'
  | 'AUDIO_HEADER_INVALID'
  | 'AUDIO_CODEC_UNSUPPORTED'
  | 'AUDIO_DECODE_FAILED'
  | 'MIC_BINARY_NOT_FOUND'
  | 'MIC_DEVICE_NOT_FOUND'
  | 'MIC_FAILED'
  | 'STREAM_FAILED'
  | 'INPUT_INVALID'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_INVALID'
  | 'MODEL_SHAPE_MISMATCH'
  | 'MODEL_UNKNOWN_VARIABLE'
  | 'MODEL_CHECKSUM_MISMATCH'
  | 'ENGINE_UNAVAILABLE'
  | 'DATA_CORRUPT'
  | 'DATA_NOT_FOUND'
  | 'EVENT_NOT_FOUND'
  | 'DATA_UNSUPPORTED'
  | 'STORAGE_FAILED'
  | 'DOWNLOAD_FAILED'
  | 'PROTOCOL_ERROR'
  | 'AUTH_FAILED'
  | 'HISTORY_FAILED'
  | 'HISTORY_FULL'
  | 'CLIP_FAILED'
  | 'INTERNAL';

export class EarshotError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EarshotError';
    this.code = code;
    this.details = details;
  }
}

export function isEarshotError(e: unknown, code?: ErrorCode): e is EarshotError {
  return e instanceof EarshotError && (code === undefined || e.code === code);
}

/** Normalise anything thrown (strings included: some libraries throw them) into an EarshotError. */
export function toEarshotError(e: unknown, fallback: ErrorCode = 'INTERNAL'): EarshotError {
  if (e instanceof EarshotError) return e;
  if (e instanceof Error) return new EarshotError(fallback, e.message, {}, { cause: e });
  return new EarshotError(fallback, String(e));
}
