/**
 * Checkpoint blob: u32 LE header length, JSON header, then every tensor's float32 LE data
 * (params, Adam m, Adam v) in header order. Stored as one file of a src/storage checkpoint.
 */
import type { NetSpec, Params } from '../classify/net.js';
import { EarshotError } from '../errors.js';
import { loadLatestCheckpoint as loadStored, saveCheckpoint as saveStored } from '../storage/checkpoints.js';
import type { Storage } from '../storage/contracts.js';
import type { SamplerState } from './sampler.js';

export interface HistoryPoint {
  iteration: number;
  loss: number;
  valMAP?: number;
  /** Validation mAP of the weights' moving average, when the run keeps one. */
  valMAPEma?: number;
}

export interface TrainState {
  spec: NetSpec;
  iteration: number;
  params: Params;
  adam: { iterations: number; m: Params; v: Params };
  sampler: SamplerState;
  dropoutRng: number[];
  mixupRng?: number[];
  /** Moving average of params (emaDecay runs). */
  ema?: Params;
  history: HistoryPoint[];
  /** Settings the run was started with; resume refuses a different run. */
  run: Record<string, unknown>;
}

interface Header {
  format: 'earshot-checkpoint';
  version: 1;
  spec: NetSpec;
  iteration: number;
  adamIterations: number;
  sampler: SamplerState;
  dropoutRng: number[];
  mixupRng?: number[];
  history: HistoryPoint[];
  run: Record<string, unknown>;
  tensors: Array<{ group: 'param' | 'm' | 'v' | 'ema'; name: string; length: number }>;
}

export function encodeCheckpoint(s: TrainState): Buffer {
  const groups: Array<['param' | 'm' | 'v' | 'ema', Params]> = [['param', s.params], ['m', s.adam.m], ['v', s.adam.v], ...(s.ema ? [['ema', s.ema] as ['ema', Params]] : [])];
  const tensors: Header['tensors'] = [];
  const parts: Buffer[] = [];
  for (const [group, map] of groups)
    for (const [name, t] of map) {
      tensors.push({ group, name, length: t.length });
      parts.push(Buffer.from(t.buffer, t.byteOffset, t.byteLength));
    }
  const header: Header = {
    format: 'earshot-checkpoint',
    version: 1,
    spec: s.spec,
    iteration: s.iteration,
    adamIterations: s.adam.iterations,
    sampler: s.sampler,
    dropoutRng: s.dropoutRng,
    ...(s.mixupRng ? { mixupRng: s.mixupRng } : {}),
    history: s.history,
    run: s.run,
    tensors,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length, 0);
  return Buffer.concat([len, json, ...parts]);
}

export function decodeCheckpoint(buf: Uint8Array, source: string): TrainState {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = (why: string): EarshotError => new EarshotError('DATA_CORRUPT', `checkpoint ${source}: ${why}`, { source });
  if (b.length < 4) throw bad('too short');
  const hl = b.readUInt32LE(0);
  if (4 + hl > b.length) throw bad('header runs past the end');
  let h: Header;
  try {
    h = JSON.parse(b.subarray(4, 4 + hl).toString('utf8')) as Header;
  } catch {
    throw bad('header is not JSON');
  }
  if (h.format !== 'earshot-checkpoint' || h.version !== 1) throw bad('not an earshot checkpoint');
  let off = 4 + hl;
  const maps = { param: new Map<string, Float32Array>(), m: new Map<string, Float32Array>(), v: new Map<string, Float32Array>(), ema: new Map<string, Float32Array>() };
  for (const t of h.tensors) {
    if (!(t.group in maps)) throw bad(`unknown tensor group ${t.group}`);
    const bytes = t.length * 4;
    if (off + bytes > b.length) throw bad(`tensor ${t.group}/${t.name} runs past the end`);
    const a = new Float32Array(t.length);
    new Uint8Array(a.buffer).set(b.subarray(off, off + bytes));
    maps[t.group].set(t.name, a);
    off += bytes;
  }
  if (off !== b.length) throw bad(`${b.length - off} trailing bytes`);
  return {
    spec: h.spec,
    iteration: h.iteration,
    params: maps.param,
    adam: { iterations: h.adamIterations, m: maps.m, v: maps.v },
    sampler: h.sampler,
    dropoutRng: h.dropoutRng,
    ...(h.mixupRng ? { mixupRng: h.mixupRng } : {}),
    ...(maps.ema.size ? { ema: maps.ema } : {}),
    history: h.history,
    run: h.run,
  };
}

const FILE = 'state.bin';

/**
 * Saves through src/storage/checkpoints (files + sha256 manifest + latest pointer written last),
 * keeping the newest `keep`.
 */
export async function saveCheckpoint(storage: Storage, s: TrainState, keep = 2): Promise<string> {
  const name = `iter-${String(s.iteration).padStart(9, '0')}`;
  await saveStored(storage, name, { [FILE]: encodeCheckpoint(s) }, { keep });
  return name;
}

/** The newest checkpoint that verifies, or undefined when the store has none. */
export async function loadLatestCheckpoint(storage: Storage): Promise<TrainState | undefined> {
  const c = await loadStored(storage);
  if (!c) return undefined;
  const blob = c.files[FILE];
  if (!blob) throw new EarshotError('DATA_CORRUPT', `checkpoint ${storage.url}/${c.name} has no ${FILE}`, { name: c.name });
  return decodeCheckpoint(blob, `${storage.url}/${c.name}/${FILE}`);
}
