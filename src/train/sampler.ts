/**
 * Mini-batch index samplers, ports of the seed's utils/data_generator.py with our Rng.
 * Both expose their full state so a checkpoint resumes the exact batch sequence.
 */
import { EarshotError } from '../errors.js';
import { Rng } from './rng.js';

export interface Sampler {
  next(): Int32Array;
  state(): SamplerState;
}

export type SamplerState =
  | { kind: 'no_balance'; rng: number[]; indexes: number[]; pointer: number }
  | { kind: 'balance_in_batch'; rng: number[]; queue: number[]; pointers: number[]; indexesOfClasses: number[][]; classesSet: number[] };

/** VanillaDataGenerator: shuffled pass over all clips, reshuffle after each epoch. */
export function vanillaSampler(count: number, batchSize: number, seed: number, resume?: SamplerState): Sampler {
  let rng: Rng;
  let indexes: number[];
  let pointer: number;
  if (resume) {
    if (resume.kind !== 'no_balance') throw new EarshotError('INPUT_INVALID', `checkpoint sampler is ${resume.kind}, run asks for no_balance`);
    rng = new Rng(resume.rng);
    indexes = [...resume.indexes];
    pointer = resume.pointer;
  } else {
    rng = new Rng(seed);
    indexes = Array.from({ length: count }, (_, i) => i);
    rng.shuffle(indexes);
    pointer = 0;
  }
  return {
    next() {
      const batch = Int32Array.from(indexes.slice(pointer, pointer + batchSize));
      pointer += batchSize;
      if (pointer >= count) {
        pointer = 0;
        rng.shuffle(indexes);
      }
      return batch;
    },
    state: () => ({ kind: 'no_balance', rng: rng.state(), indexes: [...indexes], pointer }),
  };
}

/**
 * BalancedDataGenerator: a queue of shuffled class lists supplies `batchSize` class slots;
 * each class serves its slots from a per-class shuffled index list and pointer, reshuffled
 * when exhausted. As in the seed, the slots of one class are served from its list without
 * wrapping, so a batch can be a few clips short right before a class reshuffles.
 * Deviation: classes with no positive clip are left out of the class list (the seed keeps
 * them, which silently shrinks batches); AudioSet's balanced split has all 527.
 */
export function balancedSampler(y: Uint8Array, classes: number, batchSize: number, seed: number, resume?: SamplerState): Sampler {
  const count = y.length / classes;
  let rng: Rng;
  let queue: number[];
  let pointers: number[];
  let idx: number[][];
  let classesSet: number[];
  if (resume) {
    if (resume.kind !== 'balance_in_batch') throw new EarshotError('INPUT_INVALID', `checkpoint sampler is ${resume.kind}, run asks for balance_in_batch`);
    rng = new Rng(resume.rng);
    queue = [...resume.queue];
    pointers = [...resume.pointers];
    idx = resume.indexesOfClasses.map((a) => [...a]);
    classesSet = [...resume.classesSet];
  } else {
    rng = new Rng(seed);
    idx = Array.from({ length: classes }, () => [] as number[]);
    for (let i = 0; i < count; i++) for (let k = 0; k < classes; k++) if (y[i * classes + k]) idx[k]!.push(i);
    for (const a of idx) rng.shuffle(a);
    classesSet = [];
    for (let k = 0; k < classes; k++) if (idx[k]!.length > 0) classesSet.push(k);
    if (classesSet.length === 0) throw new EarshotError('INPUT_INVALID', 'balanced sampling needs at least one labelled clip');
    queue = [];
    pointers = new Array<number>(classes).fill(0);
  }
  return {
    next() {
      while (queue.length < batchSize) {
        rng.shuffle(classesSet);
        queue.push(...classesSet);
      }
      const slots = queue.splice(0, batchSize);
      const perClass = new Int32Array(classes);
      for (const k of slots) perClass[k]!++;
      const out: number[] = [];
      for (let k = 0; k < classes; k++) {
        const list = idx[k]!;
        if (list.length === 0) continue;
        const take = perClass[k]!;
        for (let j = pointers[k]!; j < Math.min(pointers[k]! + take, list.length); j++) out.push(list[j]!);
        pointers[k]! += take;
        if (pointers[k]! >= list.length) {
          pointers[k] = 0;
          rng.shuffle(list);
        }
      }
      return Int32Array.from(out);
    },
    state: () => ({ kind: 'balance_in_batch', rng: rng.state(), queue: [...queue], pointers: [...pointers], indexesOfClasses: idx.map((a) => [...a]), classesSet: [...classesSet] }),
  };
}
