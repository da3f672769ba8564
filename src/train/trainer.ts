/**
 * Training loop: seed-deterministic, resumable from the latest checkpoint with the exact
 * same batches, dropout masks and optimiser state as an uninterrupted run.
 */
import type { Blas } from '../classify/blas.js';
import { createHead } from '../classify/head.js';
import { bceLoss } from '../classify/layers.js';
import { backward, forward, initParams, type NetSpec, zeroGrads } from '../classify/net.js';
import { EarshotError } from '../errors.js';
import type { Storage } from '../storage/contracts.js';
import { adamInit, adamStep } from './adam.js';
import { loadLatestCheckpoint, saveCheckpoint, type TrainState } from './checkpoint.js';
import { dequantize, gatherBatch } from './data.js';
import { evaluate } from './metrics.js';
import { cloneParams, emaUpdate, mixupInPlace, scheduledLr } from './regularize.js';
import { Rng } from './rng.js';
import { balancedSampler, type Sampler, vanillaSampler } from './sampler.js';

export interface Dataset {
  readonly count: number;
  /** uint8 [count, T, D] */
  readonly x: Uint8Array;
  /** 0/1 [count, classes] */
  readonly y: Uint8Array;
}

export interface TrainOptions {
  spec: NetSpec;
  dropout: number;
  batchSize: number;
  learningRate: number;
  iterations: number;
  balance: 'balance_in_batch' | 'no_balance';
  seed: number;
  evalEveryIterations: number;
  checkpointEveryIterations: number;
  blas: Blas;
  checkpoints?: Storage;
  resume?: boolean;
  val?: Dataset;
  /** Beta(alpha, alpha) mixup of embeddings and labels; 0 or absent = off (the seed's recipe). */
  mixupAlpha?: number;
  /** 'cosine': lr decays to 1 % of learningRate at the last iteration. Default 'constant'. */
  lrSchedule?: 'constant' | 'cosine';
  /** Exponential moving average of the weights; 0 or absent = off. */
  emaDecay?: number;
  onStep?: (p: { iteration: number; iterations: number; loss: number; clips: number }) => void;
  onEval?: (p: { iteration: number; mAP: number; AUC: number; emaMAP?: number }) => void;
  onCheckpoint?: (key: string) => void;
  /** Called once with the iteration training starts from (0, or the resumed checkpoint's). */
  onStart?: (iteration: number) => void;
}

function runSettings(o: TrainOptions): Record<string, unknown> {
  // The newer settings appear only when used, so checkpoints of seed-recipe runs still resume.
  const extra = {
    ...(o.mixupAlpha ? { mixupAlpha: o.mixupAlpha } : {}),
    ...(o.lrSchedule === 'cosine' ? { lrSchedule: 'cosine', iterations: o.iterations } : {}),
    ...(o.emaDecay ? { emaDecay: o.emaDecay } : {}),
  };
  return { spec: o.spec, dropout: o.dropout, batchSize: o.batchSize, learningRate: o.learningRate, balance: o.balance, seed: o.seed, ...extra };
}

function makeSampler(data: Dataset, o: TrainOptions, st?: TrainState): Sampler {
  return o.balance === 'balance_in_batch' ? balancedSampler(data.y, o.spec.classes, o.batchSize, o.seed, st?.sampler) : vanillaSampler(data.count, o.batchSize, o.seed, st?.sampler);
}

function freshState(o: TrainOptions, sampler: Sampler): TrainState {
  // Separate streams so changing the sampler never changes the init or dropout masks.
  const init = new Rng(o.seed * 3 + 1);
  const params = initParams(o.spec, () => init.next());
  const adam = adamInit(zeroGrads(o.spec));
  return {
    spec: o.spec,
    iteration: 0,
    params,
    adam,
    sampler: sampler.state(),
    dropoutRng: new Rng(o.seed * 3 + 2).state(),
    ...(o.mixupAlpha ? { mixupRng: new Rng(o.seed * 3 + 3).state() } : {}),
    ...(o.emaDecay ? { ema: cloneParams(params) } : {}),
    history: [],
    run: runSettings(o),
  };
}

async function startState(data: Dataset, o: TrainOptions): Promise<{ st: TrainState; sampler: Sampler }> {
  if (o.resume && o.checkpoints) {
    const st = await loadLatestCheckpoint(o.checkpoints);
    if (st) {
      const want = JSON.stringify(runSettings(o));
      if (JSON.stringify(st.run) !== want) throw new EarshotError('INPUT_INVALID', `checkpoint in ${o.checkpoints.url} was made with ${JSON.stringify(st.run)}, this run asks for ${want}`);
      return { st, sampler: makeSampler(data, o, st) };
    }
  }
  const sampler = makeSampler(data, o);
  return { st: freshState(o, sampler), sampler };
}

/** Mean average precision etc. of the current parameters on `val` (inference mode). */
export function validate(o: TrainOptions, st: TrainState, val: Dataset, params = st.params): { mAP: number; AUC: number } {
  const head = createHead(o.spec, params, o.blas);
  const probs = head.predictSync(dequantize(val.x), val.count);
  const r = evaluate(probs, val.y, val.count, o.spec.classes);
  return { mAP: r.mAP, AUC: r.AUC };
}

export async function train(data: Dataset, o: TrainOptions): Promise<TrainState> {
  const { spec } = o;
  const rowLen = spec.timeSteps * spec.inputDim;
  if (data.x.length !== data.count * rowLen || data.y.length !== data.count * spec.classes)
    throw new EarshotError(
      'DATA_CORRUPT',
      `training data shapes x ${data.x.length}, y ${data.y.length} do not match ${data.count} clips of [${spec.timeSteps},${spec.inputDim}] / ${spec.classes} classes`,
    );
  const { st, sampler } = await startState(data, o);
  const drop = new Rng(st.dropoutRng);
  const mix = st.mixupRng ? new Rng(st.mixupRng) : undefined;
  o.onStart?.(st.iteration);
  while (st.iteration < o.iterations) {
    const idx = sampler.next();
    const batch = gatherBatch(data.x, data.y, rowLen, spec.classes, idx);
    if (mix && o.mixupAlpha) mixupInPlace(batch.x, batch.y, idx.length, o.mixupAlpha, mix);
    const cache = forward(o.blas, spec, st.params, batch.x, idx.length, { training: true, dropout: o.dropout, rng: drop });
    const { loss, grad } = bceLoss(cache.output, batch.y);
    const grads = zeroGrads(spec);
    backward(o.blas, spec, st.params, cache, grad, grads);
    adamStep(st.params, grads, st.adam, { lr: scheduledLr(o.learningRate, o.lrSchedule ?? 'constant', st.iteration + 1, o.iterations) });
    st.iteration += 1;
    if (st.ema && o.emaDecay) emaUpdate(st.ema, st.params, o.emaDecay, st.iteration);
    st.history.push({ iteration: st.iteration, loss });
    o.onStep?.({ iteration: st.iteration, iterations: o.iterations, loss, clips: idx.length });
    // The last iteration is always validated: a run shorter than the interval (or not a
    // multiple of it) would otherwise end without the figure its log promised.
    if (o.val && (st.iteration % o.evalEveryIterations === 0 || st.iteration === o.iterations)) {
      const r = validate(o, st, o.val);
      const e = st.ema ? validate(o, st, o.val, st.ema) : undefined;
      const h = st.history[st.history.length - 1]!;
      h.valMAP = r.mAP;
      if (e) h.valMAPEma = e.mAP;
      o.onEval?.({ iteration: st.iteration, ...r, ...(e ? { emaMAP: e.mAP } : {}) });
    }
    if (o.checkpoints && (st.iteration % o.checkpointEveryIterations === 0 || st.iteration === o.iterations)) {
      st.sampler = sampler.state();
      st.dropoutRng = drop.state();
      if (mix) st.mixupRng = mix.state();
      const key = await saveCheckpoint(o.checkpoints, st);
      o.onCheckpoint?.(key);
    }
  }
  st.sampler = sampler.state();
  st.dropoutRng = drop.state();
  if (mix) st.mixupRng = mix.state();
  return st;
}
