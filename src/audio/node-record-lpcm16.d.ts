// The package ships no types; this covers the parts micSource uses.
declare module 'node-record-lpcm16' {
  import type { ChildProcess } from 'node:child_process';
  import type { Readable } from 'node:stream';

  export interface RecordOptions {
    sampleRate?: number;
    channels?: number;
    recorder?: 'arecord' | 'sox' | 'rec';
    device?: string | null;
    audioType?: string;
    threshold?: number;
    endOnSilence?: boolean;
  }

  export interface Recording {
    readonly process: ChildProcess;
    stream(): Readable;
    stop(): void;
  }

  export function record(options?: RecordOptions): Recording;
  const _default: { record: typeof record };
  export default _default;
}

declare module 'node-record-lpcm16/recorders/index.js' {
  import type { SpawnOptions } from 'node:child_process';

  import type { RecordOptions } from 'node-record-lpcm16';

  export interface RecorderCommand {
    cmd: string;
    args: Array<string | number>;
    spawnOptions?: SpawnOptions;
  }
  export function load(name: string): (options: Required<Pick<RecordOptions, 'sampleRate' | 'channels' | 'audioType'>> & RecordOptions) => RecorderCommand;
  const _default: { load: typeof load };
  export default _default;
}
