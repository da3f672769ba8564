import type { LevelReading, SpectrogramFrames } from './contracts.js';

const r2 = (x: number) => Math.round(x * 100) / 100;
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;

/** The `levels` message (docs/protocol.md). */
export function levelsMessage(r: LevelReading): string {
  return JSON.stringify({ type: 'levels', source: r.sourceId, t: r4(r.tSeconds), rmsDb: r2(r.rmsDb), loudness: r4(r.loudness), centroidHz: Math.round(r.centroidHz), flatness: r4(r.flatness) });
}

/** The `spectrogram` message: frames x bands bytes, base64; value = lo + byte * (hi - lo) / 255. */
export function spectrogramMessage(f: SpectrogramFrames): string {
  return JSON.stringify({
    type: 'spectrogram',
    source: f.sourceId,
    t: r4(f.tSeconds),
    hop: f.hopSeconds,
    frames: f.frames,
    bands: f.bands,
    lo: r4(f.lo),
    hi: r4(f.hi),
    data: Buffer.from(f.data.buffer, f.data.byteOffset, f.data.byteLength).toString('base64'),
  });
}
