import type { FrontendConfig } from '../config/sections/frontend.js';
import type { Patch } from './contracts.js';

// Stream time of a patch's window: shared by the daemon, `earshot tag` and the indexer so all stamp hops alike.

/** Stream time of the newest sample in a patch: the end of the hop it completes. */
export function patchEndSeconds(p: Patch, fe: FrontendConfig): number {
  return windowEndSeconds(p.startSeconds, p.frames, fe);
}

/** Stream time at which a window of `frames` STFT frames starting at `startSeconds` is complete. */
export function windowEndSeconds(startSeconds: number, frames: number, fe: FrontendConfig): number {
  return startSeconds + (frames - 1) * fe.stftHopSeconds + fe.stftWindowSeconds;
}
