import type { FrontendConfig } from '../config/sections/frontend.js';
import type { Patch } from './contracts.js';
import { createStreamingPatcher } from './patches.js';
import { createStreamingResampler } from './resample.js';

/**
 * Log-mel patches of a stream of mono blocks at `sampleRateHz`, yielded as they are
 * complete (the offline commands' streamed path): the streaming resampler and patcher
 * equal computeLogMelPatches for any chunking, and memory holds a few blocks and the
 * frames of the next patch, not the file. Empty arrays are not yielded.
 */
export async function* patchStream(blocks: AsyncIterable<Float32Array>, sampleRateHz: number, frontend: FrontendConfig): AsyncGenerator<Patch[]> {
  const rs = createStreamingResampler(sampleRateHz, frontend.sampleRateHz);
  const patcher = createStreamingPatcher(frontend);
  for await (const block of blocks) {
    const p = patcher.pushAtFrontendRate(rs.push(block));
    if (p.length) yield p;
  }
  const tail = [...patcher.pushAtFrontendRate(rs.end()), ...patcher.end()];
  if (tail.length) yield tail;
}
