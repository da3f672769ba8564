import type { Readable } from 'node:stream';

import { Observable } from 'rxjs';

import { EarshotError } from '../errors.js';
import type { AudioChunk } from './contracts.js';
import { createS16leDecoder } from './pcm.js';

export interface RawPcmOptions {
  readonly format: 's16le';
  readonly sampleRateHz: number;
}

/**
 * Raw PCM from a byte stream (stdin: `--raw s16le --rate N`). Reads may split a
 * sample across chunks; the decoder carries the odd byte over. A single dangling
 * byte at end of stream is not a sample and is dropped. The caller owns the stream:
 * unsubscribing detaches and pauses it but does not destroy it.
 */
export function rawPcmSource(readable: Readable, opts: RawPcmOptions): Observable<AudioChunk> {
  return new Observable<AudioChunk>((subscriber) => {
    if (opts.format !== 's16le') {
      subscriber.error(new EarshotError('INPUT_INVALID', `raw PCM format '${String(opts.format)}' is not supported (only s16le)`, { format: opts.format }));
      return undefined;
    }
    if (!Number.isInteger(opts.sampleRateHz) || opts.sampleRateHz <= 0) {
      subscriber.error(new EarshotError('INPUT_INVALID', `raw PCM sample rate must be a positive integer, got ${opts.sampleRateHz}`, { sampleRateHz: opts.sampleRateHz }));
      return undefined;
    }
    const decoder = createS16leDecoder();
    let startSample = 0;
    const onData = (d: Buffer | string): void => {
      const bytes = typeof d === 'string' ? Buffer.from(d, 'latin1') : d;
      const samples = decoder.push(bytes);
      if (samples.length === 0) return;
      subscriber.next({ samples, sampleRateHz: opts.sampleRateHz, startSample });
      startSample += samples.length;
    };
    const onEnd = (): void => subscriber.complete();
    const onError = (e: Error): void => subscriber.error(new EarshotError('STREAM_FAILED', `raw PCM input failed: ${e.message}`, {}, { cause: e }));
    readable.on('data', onData);
    readable.once('end', onEnd);
    readable.once('error', onError);
    return () => {
      readable.off('data', onData);
      readable.off('end', onEnd);
      readable.off('error', onError);
      readable.pause();
    };
  });
}
