import type { Observable } from 'rxjs';

import type { AudioChunk } from '../audio/contracts.js';

/**
 * Flow control between a source and the tagger, in one place. A source declares one of
 * two modes:
 * - `live` (microphones, streams, stdin, files read in real time): audio arrives at its own
 *   pace and cannot wait, so when the tagger falls more than supervision.maxBacklogPatches
 *   behind, the oldest waiting patch is shed and counted (earshot_patches_dropped_total);
 * - `paced` (files read as fast as the tagger goes): the source waits on a `FlowGate`
 *   that opens while at most one patch waits, so it never reaches the bound and no audio
 *   is lost, and memory stays flat whatever the file's length.
 */
export type AudioSource = { readonly mode: 'live'; open(): Observable<AudioChunk> } | { readonly mode: 'paced'; open(gate: FlowGate): Observable<AudioChunk> };

/** Lets a producer wait until the consumer has room (the pipeline's in-flight patches). */
export interface FlowGate {
  wait(): Promise<void>;
}

/** `open` is called once per attempt (each restart re-opens the device, file or url). */
export function liveSource(open: () => Observable<AudioChunk>): AudioSource {
  return { mode: 'live', open };
}

/**
 * One attempt's backlog: the tag operator reports patches waiting or in flight (`set`), a
 * paced source waits on `gate`. Resolutions go through setImmediate so a paced source
 * never runs from the tagger's microtasks and sockets and signals keep being served.
 */
export class Backlog {
  private waiting = 0;
  private wake: (() => void)[] = [];

  readonly gate: FlowGate = {
    wait: () =>
      new Promise<void>((resolve) => {
        if (this.waiting <= 1) setImmediate(resolve);
        else this.wake.push(resolve);
      }),
  };

  set(n: number): void {
    this.waiting = n;
    if (n <= 1 && this.wake.length) {
      const w = this.wake;
      this.wake = [];
      for (const r of w) setImmediate(r);
    }
  }

  /** The source's chunks under its mode: paced sources get the gate, live ones nothing to wait on. */
  open(src: AudioSource): Observable<AudioChunk> {
    return src.mode === 'paced' ? src.open(this.gate) : src.open();
  }
}
