import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';

import cliProgress from 'cli-progress';
import type { Command } from 'commander';

import { defaultBlas } from '../../classify/blas.js';
import { loadClassifier } from '../../classify/store.js';
import { TRAIN_BALANCE, TRAIN_MODEL_TYPES } from '../../config/choices.js';
import type { Config } from '../../config/schema.js';
import { EarshotError } from '../../errors.js';
import { parseLabelsCsv } from '../../models/modeldir.js';
import { openStorage } from '../../storage/index.js';
import type { HistoryPoint } from '../../train/checkpoint.js';
import { dequantize } from '../../train/data.js';
import { metadataBeside } from '../../train/datasets/audioset.js';
import { type Candidate, selectEnsemble, splitOf, writeEnsemble } from '../../train/ensemble.js';
import { evaluate } from '../../train/metrics.js';
import { buildReport, perClassApSvg, reportMarkdown, type SplitFigures, trainingCurveSvg } from '../../train/report.js';
import { holdOut, loadSplit, positivesPerClass, runTraining } from '../../train/run.js';
import { action, configFrom, definedOnly, intFlag, numericOverride } from '../common.js';

const isRemote = (url: string): boolean => /^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file:');

interface TrainFlags {
  data: string;
  val?: string;
  labels?: string;
  modelType?: string;
  iterations?: string;
  batchSize?: string;
  seed?: string;
  balance?: string;
  evalEvery?: string;
  checkpointEvery?: string;
  hidden?: string;
  valFraction?: string;
  splitSeed?: string;
  mixup?: string;
  lrSchedule?: string;
  ema?: string;
  checkpoints?: string;
  resume?: boolean;
  out: string;
}

function log(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

async function readLabels(flags: TrainFlags, cfg: Config): Promise<{ text: string; source: string }> {
  if (flags.labels) {
    if (!existsSync(flags.labels)) throw new EarshotError('DATA_NOT_FOUND', `--labels ${flags.labels} not found`, { file: flags.labels });
    return { text: readFileSync(flags.labels, 'utf8'), source: flags.labels };
  }
  const beside = metadataBeside(flags.data);
  if (beside !== undefined) {
    const guess = openStorage(beside, cfg.storage);
    if (await guess.exists('class_labels_indices.csv')) return { text: (await guess.read('class_labels_indices.csv')).toString('utf8'), source: `${guess.url}/class_labels_indices.csv` };
    throw new EarshotError('INPUT_INVALID', `no --labels given and no class_labels_indices.csv at ${guess.url} (AudioSet's metadata/ beside features/<split>); pass --labels`, { url: guess.url });
  }
  throw new EarshotError('INPUT_INVALID', `no --labels given and --data ${flags.data} is not inside an AudioSet tree (<root>/features/<split>); pass --labels`, { data: flags.data });
}

/** The labels file as the model records it: relative to the data root, not this machine's path. */
function labelsRef(source: string): string {
  const segs = source.split('/');
  return segs.at(-2) === 'metadata' ? `metadata/${segs.at(-1)}` : segs.at(-1)!;
}

/** A model directory as a report names it: relative to the working directory, or its name. */
function modelRef(dir: string): string {
  const rel = relative(process.cwd(), resolve(dir));
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : basename(resolve(dir));
}

/** A missing or empty --data fails here, naming it, before labels are looked for beside it. */
async function requireData(flag: string, url: string, cfg: Config): Promise<void> {
  const keys = await openStorage(url, cfg.storage).list();
  if (keys.length === 0) throw new EarshotError('DATA_NOT_FOUND', `${flag} ${url}: no such directory or prefix, or it holds no files`, { flag, url });
}

/** Flags that set a train.* key: they go through the config schema like a config file would. */
const TRAIN_FLAGS = {
  modelType: '--model-type',
  iterations: '--iterations',
  batchSize: '--batch-size',
  seed: '--seed',
  balance: '--balance',
  evalEveryIterations: '--eval-every',
  checkpointEveryIterations: '--checkpoint-every',
  hiddenUnits: '--hidden',
  validationFraction: '--val-fraction',
  splitSeed: '--split-seed',
  mixupAlpha: '--mixup',
  lrSchedule: '--lr-schedule',
  emaDecay: '--ema',
} as const;

function trainConfig(flags: TrainFlags, cmd: Command): Config {
  const train = definedOnly({
    modelType: flags.modelType,
    iterations: numericOverride(flags.iterations),
    batchSize: numericOverride(flags.batchSize),
    seed: numericOverride(flags.seed),
    balance: flags.balance,
    evalEveryIterations: numericOverride(flags.evalEvery),
    checkpointEveryIterations: numericOverride(flags.checkpointEvery),
    hiddenUnits: numericOverride(flags.hidden),
    validationFraction: numericOverride(flags.valFraction),
    splitSeed: numericOverride(flags.splitSeed),
    mixupAlpha: numericOverride(flags.mixup),
    lrSchedule: flags.lrSchedule,
    emaDecay: numericOverride(flags.ema),
  });
  const names = Object.fromEntries(Object.entries(TRAIN_FLAGS).map(([k, f]) => [`train.${k}`, f]));
  return configFrom(cmd, { train }, names);
}

async function trainCommand(flags: TrainFlags, cmd: Command): Promise<void> {
  const cfg = trainConfig(flags, cmd);
  const t = cfg.train;
  const { modelType, balance } = t;
  await requireData('--data', flags.data, cfg);
  if (flags.val) await requireData('--val', flags.val, cfg);
  const { text, source } = await readLabels(flags, cfg);
  const labels = parseLabelsCsv(text, source);
  const spec = { modelType, timeSteps: 10, inputDim: 128, hidden: t.hiddenUnits, classes: labels.length };
  log(`loading ${flags.data} ...`);
  const all = await loadSplit(openStorage(flags.data, cfg.storage), spec.timeSteps, spec.classes);
  // Without --val, every choice is made on a stratified hold-out of --data (eval stays unseen).
  const held = !flags.val && t.validationFraction > 0 ? holdOut(all, spec.classes, t.validationFraction, t.splitSeed) : undefined;
  const data = held?.train ?? all;
  const val = held?.val ?? (flags.val ? await loadSplit(openStorage(flags.val, cfg.storage), spec.timeSteps, spec.classes) : undefined);
  log(`training ${modelType} on ${data.count} clips${val ? `, validating on ${val.count}` : ''}`);
  // Checkpoints live under <store>/checkpoints/; on S3 the store is the output prefix itself.
  const ckptUrl = flags.checkpoints ?? (isRemote(flags.out) ? flags.out.replace(/\/+$/, '') : `${flags.out.replace(/\/+$/, '')}.checkpoints`);
  const blas = defaultBlas();
  if (blas.name !== 'openblas') log('warning: native OpenBLAS addon not built (npm run build:native); using the slow TypeScript sgemm');
  const iterations = t.iterations;
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ format: '{bar} {value}/{total} | loss {loss} | {rate} clips/s | ETA {eta_formatted}', stream: process.stderr, etaBuffer: 50 }, cliProgress.Presets.shades_classic)
    : undefined;
  let rate = 0;
  let last = Date.now();
  let started = false;
  const { dir, state } = await runTraining({
    spec,
    data,
    ...(val ? { val } : {}),
    labels,
    labelsSource: labelsRef(source),
    ...(held ? { split: held.split } : {}),
    mixupAlpha: t.mixupAlpha,
    lrSchedule: t.lrSchedule,
    emaDecay: t.emaDecay,
    dropout: t.dropout,
    batchSize: t.batchSize,
    learningRate: t.learningRate,
    iterations,
    balance,
    seed: t.seed,
    evalEveryIterations: t.evalEveryIterations,
    checkpointEveryIterations: t.checkpointEveryIterations,
    blas,
    checkpoints: openStorage(ckptUrl, cfg.storage),
    resume: flags.resume ?? false,
    out: isRemote(flags.out) ? { storage: openStorage(flags.out, cfg.storage) } : { local: flags.out },
    onStep: (p) => {
      const now = Date.now();
      const inst = (p.clips * 1000) / Math.max(1, now - last);
      last = now;
      rate = rate === 0 ? inst : 0.9 * rate + 0.1 * inst;
      if (bar && !started) {
        bar.start(p.iterations, p.iteration - 1, { loss: '-', rate: '-' });
        started = true;
      }
      bar?.update(p.iteration, { loss: p.loss.toFixed(4), rate: rate.toFixed(0) });
      if (!bar && (p.iteration % 50 === 0 || p.iteration === p.iterations)) log(`iteration ${p.iteration}/${p.iterations} loss ${p.loss.toFixed(4)} ${rate.toFixed(0)} clips/s`);
    },
    onEval: (e) =>
      log(`${bar ? '\n' : ''}iteration ${e.iteration}: validation mAP ${e.mAP.toFixed(4)} AUC ${e.AUC.toFixed(4)}${e.emaMAP !== undefined ? ` (moving average: mAP ${e.emaMAP.toFixed(4)})` : ''}`),
    onCheckpoint: (k) => {
      if (!bar) log(`checkpoint ${k} in ${ckptUrl}`);
    },
  });
  bar?.stop();
  log(`wrote ${dir} after ${state.iteration} iterations (final loss ${state.history.at(-1)?.loss.toFixed(4) ?? 'n/a'})`);
}

interface EvalFlags {
  model: string;
  data: string;
  json?: boolean;
  report?: string;
  trainData?: string;
}

async function evalCommand(flags: EvalFlags, cmd: Command): Promise<void> {
  const cfg = configFrom(cmd);
  const { head, labels } = loadClassifier(flags.model);
  const split = await loadSplit(openStorage(flags.data, cfg.storage), head.timeSteps, head.classes);
  const probs = head.predictSync(dequantize(split.x), split.count);
  const vPath = join(flags.model, 'validation.json');
  const validation = existsSync(vPath) ? (JSON.parse(readFileSync(vPath, 'utf8')) as SplitFigures) : undefined;
  const report = buildReport(evaluate(probs, split.y, split.count, head.classes), labels, {
    model: modelRef(flags.model),
    data: split.ref.path,
    dataSha256: split.ref.sha256,
    ...(validation ? { validation } : {}),
  });
  if (flags.report) {
    mkdirSync(flags.report, { recursive: true });
    const trainPos = flags.trainData ? await loadSplit(openStorage(flags.trainData, cfg.storage), head.timeSteps, head.classes) : undefined;
    writeFileSync(join(flags.report, 'eval.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(flags.report, 'per-class-ap.svg'), perClassApSvg(report, trainPos ? positivesPerClass(trainPos.y, trainPos.count, head.classes) : undefined));
    // Models trained by `earshot train` carry their history: redraw the curve beside the report.
    const hist = join(flags.model, 'history.json');
    const curve = existsSync(hist);
    if (curve) writeFileSync(join(flags.report, 'training-curve.svg'), trainingCurveSvg(JSON.parse(readFileSync(hist, 'utf8')) as HistoryPoint[]));
    writeFileSync(join(flags.report, 'eval.md'), reportMarkdown(report) + (curve ? '\n## Training curve\n\n![training curve](training-curve.svg)\n' : ''));
  }
  if (flags.json) process.stdout.write(JSON.stringify(report) + '\n');
  else {
    process.stdout.write(`clips ${report.clips}  mAP ${report.mAP.toFixed(4)}  AUC ${report.AUC.toFixed(4)}  d' ${report.dprime.toFixed(3)}  (${report.classesEvaluated} classes with positives)\n`);
    if (validation)
      process.stdout.write(`validation (${validation.data}, ${validation.clips} clips)  mAP ${validation.mAP.toFixed(4)}  AUC ${validation.AUC.toFixed(4)}  d' ${validation.dprime.toFixed(3)}\n`);
  }
  head.dispose();
}

interface EnsembleFlags {
  data: string;
  out: string;
  labels?: string;
}

/** `earshot ensemble`: members chosen on the hold-out their provenance records, one model dir out. */
async function ensembleCommand(models: string[], flags: EnsembleFlags, cmd: Command): Promise<void> {
  const cfg = configFrom(cmd);
  const cands: Candidate[] = models.map((dir) => {
    const l = loadClassifier(dir);
    const hist = join(dir, 'history.json');
    return {
      name: modelRef(dir),
      members: l.members,
      provenance: (l.manifest.provenance ?? {}) as Record<string, unknown>,
      ...(existsSync(hist) ? { history: JSON.parse(readFileSync(hist, 'utf8')) as HistoryPoint[] } : {}),
    };
  });
  const splits = cands.map(splitOf);
  const s0 = splits[0]!;
  splits.forEach((s, i) => {
    if (s.validationIdsSha256 !== s0.validationIdsSha256)
      throw new EarshotError(
        'INPUT_INVALID',
        `${cands[i]!.name} was validated on another hold-out (seed ${s.seed}, fraction ${s.fraction}) than ${cands[0]!.name} (seed ${s0.seed}, fraction ${s0.fraction})`,
      );
  });
  const { labels: labelsFromModel } = loadClassifier(models[0]!);
  const classes = labelsFromModel.length;
  log(`loading ${flags.data} ...`);
  const all = await loadSplit(openStorage(flags.data, cfg.storage), 10, classes);
  if (all.ref.sha256 !== s0.from.sha256)
    throw new EarshotError(
      'INPUT_INVALID',
      `--data ${flags.data} is not the data the members were trained on (content sha256 ${all.ref.sha256.slice(0, 12)}…, members: ${s0.from.sha256.slice(0, 12)}…)`,
    );
  const { val } = holdOut(all, classes, s0.fraction, s0.seed);
  const r = selectEnsemble(cands, val, classes);
  for (const st of r.steps) log(`mean of ${st.members.join(' + ')}: validation mAP ${st.mAP.toFixed(4)}`);
  writeEnsemble(flags.out, cands, r, val, labelsFromModel, classes);
  process.stdout.write(
    `wrote ${flags.out}: ${r.chosen.join(' + ')} (validation mAP ${r.steps
      .filter((s) => s.members.length === r.chosen.length)
      .map((s) => s.mAP)
      .reduce((a, b) => Math.max(a, b), 0)
      .toFixed(4)})\n`,
  );
}

interface PredictFlags {
  model: string;
  data: string;
  top: string;
  json?: boolean;
}

async function predictCommand(flags: PredictFlags, cmd: Command): Promise<void> {
  const topK = intFlag('--top', flags.top, { min: 1 })!;
  const cfg = configFrom(cmd);
  const { head, labels } = loadClassifier(flags.model);
  const split = await loadSplit(openStorage(flags.data, cfg.storage), head.timeSteps, head.classes);
  const probs = head.predictSync(dequantize(split.x), split.count);
  const C = head.classes;
  for (let i = 0; i < split.count; i++) {
    const row = probs.subarray(i * C, (i + 1) * C);
    const top = Array.from(row.keys())
      .sort((a, b) => row[b]! - row[a]!)
      .slice(0, topK);
    const items = top.map((k) => ({ index: k, id: labels[k]?.id ?? '', name: labels[k]?.name ?? `class ${k}`, score: row[k]! }));
    if (flags.json) process.stdout.write(JSON.stringify({ videoId: split.videoIds[i], top: items }) + '\n');
    else process.stdout.write(`${split.videoIds[i]}\t${items.map((t) => `${t.name} ${t.score.toFixed(3)}`).join('\t')}\n`);
  }
  head.dispose();
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('Train a 527-class AudioSet classifier head (Kong et al.) on embedding TFRecords')
    .requiredOption('--data <url>', 'training TFRecords: directory or s3://bucket/prefix')
    .option('--val <url>', 'validation TFRecords, evaluated every train.evalEveryIterations')
    .option('--labels <csv>', 'class_labels_indices.csv (default: ../../metadata/ beside --data)')
    .option('--model-type <type>', `one of ${TRAIN_MODEL_TYPES.join(', ')} (default: train.modelType)`)
    .option('--iterations <n>', 'training iterations (default: train.iterations)')
    .option('--batch-size <n>', 'clips per batch (default: train.batchSize)')
    .option('--seed <n>', 'random seed (default: train.seed)')
    .option('--balance <kind>', `${TRAIN_BALANCE.join(' | ')} (default: train.balance)`)
    .option('--eval-every <n>', 'validation interval in iterations')
    .option('--checkpoint-every <n>', 'checkpoint interval in iterations')
    .option('--hidden <n>', 'hidden units per layer (default: train.hiddenUnits)')
    .option('--val-fraction <f>', 'without --val: stratified hold-out of --data for validation (default: train.validationFraction, 0.1)')
    .option('--split-seed <n>', 'seed of that hold-out (default: train.splitSeed)')
    .option('--mixup <alpha>', 'mixup of embeddings and labels, Beta(alpha, alpha); 0 = off (default: train.mixupAlpha)')
    .option('--lr-schedule <kind>', 'constant | cosine (default: train.lrSchedule)')
    .option('--ema <decay>', 'moving average of the weights, e.g. 0.999; 0 = off (default: train.emaDecay)')
    .option('--checkpoints <url>', 'checkpoint store, local dir or s3:// prefix; checkpoints go under its checkpoints/ (default: <out>.checkpoints, or <out> itself on S3)')
    .option('--resume', 'continue from the latest checkpoint')
    .requiredOption('--out <url>', 'model directory to write (local path or s3://bucket/prefix)')
    .action(action(trainCommand));
  program
    .command('eval')
    .description("Evaluate a classifier model directory: mAP, mean AUC, d'")
    .requiredOption('--model <dir>', 'classifier model directory')
    .requiredOption('--data <url>', 'TFRecords to evaluate on: directory or s3://bucket/prefix')
    .option('--json', 'print the full report as JSON')
    .option('--report <dir>', 'write eval.json, eval.md and per-class-ap.svg there')
    .option('--train-data <url>', 'training TFRecords, for the AP-vs-training-frequency plot')
    .action(action(evalCommand));
  program
    .command('ensemble')
    .description('Average classifiers trained on the same hold-out into one model directory; members chosen greedily on that validation split')
    .argument('<models...>', 'classifier model directories (each trained by earshot train with a hold-out)')
    .requiredOption('--data <url>', 'the training TFRecords the members were trained on (the hold-out is rebuilt and checked by content hash)')
    .requiredOption('--out <dir>', 'model directory to write')
    .action(action(ensembleCommand));
  program
    .command('predict')
    .description('Top-k labels per clip of embedding TFRecords')
    .requiredOption('--model <dir>', 'classifier model directory')
    .requiredOption('--data <url>', 'TFRecords: directory or s3://bucket/prefix')
    .option('--top <k>', 'labels per clip', '5')
    .option('--json', 'one JSON object per clip')
    .action(action(predictCommand));
}
