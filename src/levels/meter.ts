import MeydaModule from 'meyda';

import type { AudioChunk } from '../audio/contracts.js';
import type { LevelReading } from './contracts.js';

// meyda ships CommonJS for Node: the default import is module.exports (the Meyda object itself),
// while its ESM typings describe a namespace holding it as `default`.
type MeydaApi = (typeof MeydaModule)['default'];
const Meyda: MeydaApi = 'extract' in MeydaModule ? (MeydaModule as unknown as MeydaApi) : MeydaModule.default;

/** meyda's spectral extractors need a power-of-two frame. */
const FRAME = 1024;
export const FLOOR_DB = -120;

/**
 * Sums one hop of audio at a time into level readings: RMS dBFS, loudness, spectral
 * centroid and flatness (meyda over FRAME-sample frames, averaged per hop). One per
 * source; `push` returns the readings of every hop the chunk completed.
 */
export class LevelMeter {
  private readonly frame = new Float32Array(FRAME);
  private fill = 0;
  private sumSq = 0;
  private samples = 0;
  private frames = 0;
  private loudness = 0;
  private centroid = 0;
  private flatness = 0;
  private rate = 0;
  private hopSamples = 0;
  /** Stream seconds read so far. */
  private t = 0;

  constructor(
    private readonly sourceId: string,
    private readonly hopSeconds: number,
  ) {}

  /** The most recent reading, if any (the quiet gate reads it). */
  last: LevelReading | undefined;

  /** `baseSeconds` is the stream time the chunk's attempt starts at (restarts bridge gaps). */
  push(chunk: AudioChunk, baseSeconds = 0): LevelReading[] {
    if (chunk.sampleRateHz !== this.rate) {
      this.rate = chunk.sampleRateHz;
      this.hopSamples = Math.max(FRAME, Math.round(this.hopSeconds * this.rate));
      this.reset();
    }
    const out: LevelReading[] = [];
    const x = chunk.samples;
    let t0 = baseSeconds + chunk.startSample / chunk.sampleRateHz;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      this.sumSq += v * v;
      this.frame[this.fill++] = v;
      this.samples++;
      if (this.fill === FRAME) this.analyseFrame();
      if (this.samples >= this.hopSamples) {
        this.t = t0 + (i + 1) / this.rate;
        out.push(this.emit());
      }
    }
    t0 += x.length / this.rate;
    this.t = t0;
    return out;
  }

  private analyseFrame(): void {
    Meyda.sampleRate = this.rate;
    Meyda.bufferSize = FRAME;
    const f = Meyda.extract(['loudness', 'spectralCentroid', 'spectralFlatness'], this.frame);
    this.fill = 0;
    if (!f) return;
    this.frames++;
    this.loudness += f.loudness?.total ?? 0;
    // meyda gives the centroid as an FFT bin index
    const c = f.spectralCentroid ?? 0;
    this.centroid += Number.isFinite(c) ? (c * this.rate) / FRAME : 0;
    const fl = f.spectralFlatness ?? 0;
    this.flatness += Number.isFinite(fl) ? fl : 0;
  }

  private emit(): LevelReading {
    const ms = this.sumSq / Math.max(1, this.samples);
    const db = ms > 0 ? Math.max(FLOOR_DB, 10 * Math.log10(ms)) : FLOOR_DB;
    const n = Math.max(1, this.frames);
    const r: LevelReading = {
      sourceId: this.sourceId,
      tSeconds: this.t,
      rmsDb: db,
      loudness: this.loudness / n,
      centroidHz: this.centroid / n,
      flatness: this.flatness / n,
    };
    this.last = r;
    this.sumSq = 0;
    this.samples = 0;
    this.frames = 0;
    this.loudness = 0;
    this.centroid = 0;
    this.flatness = 0;
    return r;
  }

  private reset(): void {
    this.fill = 0;
    this.sumSq = 0;
    this.samples = 0;
    this.frames = 0;
    this.loudness = 0;
    this.centroid = 0;
    this.flatness = 0;
  }
}
