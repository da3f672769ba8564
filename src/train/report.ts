/** Eval reports: JSON, Markdown and hand-written SVG plots (no plotting dependency). */
import type { LabelInfo } from '../classify/contracts.js';
import type { HistoryPoint } from './checkpoint.js';
import type { EvalResult } from './metrics.js';

export interface EvalReport {
  mAP: number;
  AUC: number;
  dprime: number;
  clips: number;
  classesEvaluated: number;
  skippedClasses: number[];
  model?: string;
  /** Relative to the data root (src/train/data-ref.ts), never this machine's path. */
  data?: string;
  dataSha256?: string;
  /** The model's own figures on its validation split (validation.json), shown beside these. */
  validation?: SplitFigures;
  perClass: Array<{ index: number; id: string; name: string; ap: number | null; auc: number | null; positives: number }>;
}

/** mAP / AUC / d′ of one split, as `validation.json` in a model directory stores them. */
export interface SplitFigures {
  data: string;
  dataSha256?: string;
  clips: number;
  mAP: number;
  AUC: number;
  dprime: number;
  /** Extra facts about how the figures were made (e.g. ensemble members' own mAPs). */
  notes?: string[];
}

export function buildReport(r: EvalResult, labels: readonly LabelInfo[], meta: { model?: string; data?: string; dataSha256?: string; validation?: SplitFigures } = {}): EvalReport {
  return {
    mAP: r.mAP,
    AUC: r.AUC,
    dprime: r.dprime,
    clips: r.clips,
    classesEvaluated: r.classesEvaluated,
    skippedClasses: r.perClass.filter((c) => c.ap === null).map((c) => c.index),
    ...meta,
    perClass: r.perClass.map((c) => ({ index: c.index, id: labels[c.index]?.id ?? '', name: labels[c.index]?.name ?? `class ${c.index}`, ap: c.ap, auc: c.auc, positives: c.positives })),
  };
}

const f3 = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(3));
const mdCell = (s: string): string => s.replace(/\|/g, '\\|');

export function reportMarkdown(r: EvalReport, top = 20): string {
  const rated = r.perClass.filter((c) => c.ap !== null).sort((a, b) => b.ap! - a.ap!);
  const row = (c: EvalReport['perClass'][number]): string => `| ${c.index} | ${mdCell(c.name)} | ${c.positives} | ${f3(c.ap)} | ${f3(c.auc)} |`;
  const head = '| # | class | positives | AP | AUC |\n|---:|---|---:|---:|---:|';
  return [
    '# Classifier evaluation',
    '',
    ...(r.model ? [`Model: \`${r.model}\`  `] : []),
    ...(r.data ? [`Data: \`${r.data}\`${r.dataSha256 ? ` (content sha256 \`${r.dataSha256.slice(0, 16)}…\`)` : ''}  `] : []),
    '',
    `| data | clips | mAP | mean AUC | d′ (of mean AUC) | classes evaluated |`,
    `|---|---:|---:|---:|---:|---:|`,
    `| ${mdCell(r.data ?? 'evaluated')} | ${r.clips} | ${r.mAP.toFixed(4)} | ${r.AUC.toFixed(4)} | ${r.dprime.toFixed(3)} | ${r.classesEvaluated} |`,
    ...(r.validation
      ? [
          `| ${mdCell(r.validation.data)} (validation: every choice was made here) | ${r.validation.clips} | ${r.validation.mAP.toFixed(4)} | ${r.validation.AUC.toFixed(4)} | ${r.validation.dprime.toFixed(3)} | |`,
        ]
      : []),
    '',
    ...(r.validation?.notes?.length ? [...r.validation.notes.map((n) => `- ${n}`), ''] : []),
    r.skippedClasses.length ? `Skipped (no positive clip in this data): ${r.skippedClasses.length} classes (${r.skippedClasses.join(', ')}).` : 'Every class has at least one positive clip.',
    '',
    '![per-class AP vs frequency](per-class-ap.svg)',
    '',
    `## Best ${top} classes`,
    '',
    head,
    ...rated.slice(0, top).map(row),
    '',
    `## Worst ${top} classes`,
    '',
    head,
    ...rated.slice(-top).reverse().map(row),
    '',
  ].join('\n');
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Axis {
  min: number;
  max: number;
  log?: boolean;
}

/**
 * "Nice" tick values (1, 2 or 5 x 10^k apart, about `target` of them) covering [min, max];
 * the first is <= min and the last >= max, so an axis can be widened to them.
 */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const out: number[] = [];
  const lo = Math.floor(min / step + 1e-9);
  const hi = Math.ceil(max / step - 1e-9);
  for (let k = lo; k <= hi; k++) out.push(+(k * step).toPrecision(12));
  return out;
}

function svgFrame(title: string, xl: string, yl: string, x: Axis, y: Axis, body: (px: (v: number) => number, py: (v: number) => number) => string, w = 640, h = 400, R = 20): string {
  const L = 60;
  const T = 30;
  const B = 45;
  const tx = (v: number): number => (x.log ? Math.log10(v) : v);
  const x0 = tx(x.min);
  const x1 = tx(x.max) === x0 ? x0 + 1 : tx(x.max);
  const y1 = y.max === y.min ? y.min + 1 : y.max;
  const px = (v: number): number => L + ((tx(v) - x0) / (x1 - x0)) * (w - L - R);
  const py = (v: number): number => h - B - ((v - y.min) / (y1 - y.min)) * (h - T - B);
  const ticks: string[] = [];
  // Callers pass axis limits that are already nice (see trainingCurveSvg); ticks outside them are dropped.
  for (const yv of niceTicks(y.min, y1).filter((v) => v >= y.min - 1e-9 && v <= y1 + 1e-9)) {
    ticks.push(
      `<line x1="${L}" x2="${w - R}" y1="${py(yv).toFixed(1)}" y2="${py(yv).toFixed(1)}" stroke="#eee"/><text x="${L - 6}" y="${(py(yv) + 4).toFixed(1)}" text-anchor="end">${+yv.toPrecision(3)}</text>`,
    );
  }
  const xs = x.log ? Array.from({ length: Math.floor(x1) - Math.ceil(x0) + 1 }, (_, i) => 10 ** (Math.ceil(x0) + i)) : niceTicks(x.min, x.max).filter((v) => v >= x.min - 1e-9 && v <= x.max + 1e-9);
  for (const xv of xs) ticks.push(`<text x="${px(xv).toFixed(1)}" y="${h - B + 16}" text-anchor="middle">${xv.toLocaleString('en-US')}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="11">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${w / 2}" y="18" text-anchor="middle" font-size="13">${esc(title)}</text>`,
    ...ticks,
    `<line x1="${L}" x2="${L}" y1="${T}" y2="${h - B}" stroke="black"/><line x1="${L}" x2="${w - R}" y1="${h - B}" y2="${h - B}" stroke="black"/>`,
    `<text x="${w / 2}" y="${h - 8}" text-anchor="middle">${esc(xl)}</text>`,
    `<text transform="translate(14 ${h / 2}) rotate(-90)" text-anchor="middle">${esc(yl)}</text>`,
    body(px, py),
    '</svg>',
    '',
  ].join('\n');
}

/** Per-class AP against the number of positive clips (log x). */
export function perClassApSvg(r: EvalReport, trainPositives?: readonly number[]): string {
  const pts = r.perClass.filter((c) => c.ap !== null).map((c) => ({ f: Math.max(1, trainPositives?.[c.index] ?? c.positives), ap: c.ap!, name: c.name }));
  const maxF = Math.max(2, ...pts.map((p) => p.f));
  const xl = trainPositives ? 'positive clips per class in the training data (log)' : 'positive clips per class in the evaluated data (log)';
  return svgFrame(`Per-class AP vs class frequency (mAP ${r.mAP.toFixed(3)})`, xl, 'average precision', { min: 1, max: maxF, log: true }, { min: 0, max: 1 }, (px, py) =>
    pts.map((p) => `<circle cx="${px(p.f).toFixed(1)}" cy="${py(p.ap).toFixed(1)}" r="2.5" fill="#1f77b4" fill-opacity="0.6"><title>${esc(p.name)}: ${p.ap.toFixed(3)}</title></circle>`).join('\n'),
  );
}

/**
 * Training loss (blue, left axis; the first 2% of iterations are left out of the scale so the
 * initial ~0.7 does not flatten the curve) and validation mAP (orange, right axis, 0..1).
 */
export function trainingCurveSvg(history: readonly HistoryPoint[]): string {
  const last = history.at(-1)?.iteration ?? 1;
  const skip = Math.floor(history.length * 0.02);
  const lossTicks = niceTicks(0, Math.max(1e-3, ...history.slice(skip).map((h) => h.loss)));
  const maxLoss = lossTicks.at(-1)!;
  const cut = history.slice(0, skip).filter((h) => h.loss > maxLoss);
  const vals = history.filter((h) => h.valMAP !== undefined);
  // Thin the loss line to at most ~600 points so the SVG stays small.
  const step = Math.max(1, Math.ceil(history.length / 600));
  const loss = history.filter((_, i) => i >= skip && (i % step === 0 || i === history.length - 1));
  const ema = history.filter((h) => h.valMAPEma !== undefined);
  const title = `Training curve: loss (blue, left), validation mAP (orange, right)${ema.length ? ', moving-average weights (green, dashed)' : ''}`;
  return svgFrame(
    title,
    'iteration',
    'training loss',
    { min: 0, max: last },
    { min: 0, max: maxLoss },
    (px, py) => {
      const pm = (v: number): number => py(v * maxLoss);
      const right = [0, 0.2, 0.4, 0.6, 0.8, 1].map((v) => `<text x="${px(last) + 4}" y="${(pm(v) + 4).toFixed(1)}" fill="#ff7f0e">${v.toFixed(1)}</text>`);
      return [
        `<polyline fill="none" stroke="#1f77b4" stroke-width="1.2" points="${loss.map((h) => `${px(h.iteration).toFixed(1)},${py(Math.min(h.loss, maxLoss)).toFixed(1)}`).join(' ')}"/>`,
        vals.length ? `<polyline fill="none" stroke="#ff7f0e" stroke-width="2" points="${vals.map((h) => `${px(h.iteration).toFixed(1)},${pm(h.valMAP!).toFixed(1)}`).join(' ')}"/>` : '',
        ema.length
          ? `<polyline fill="none" stroke="#2ca02c" stroke-width="1.5" stroke-dasharray="5,3" points="${ema.map((h) => `${px(h.iteration).toFixed(1)},${pm(h.valMAPEma!).toFixed(1)}`).join(' ')}"/>`
          : '',
        ...vals.map(
          (h) => `<circle cx="${px(h.iteration).toFixed(1)}" cy="${pm(h.valMAP!).toFixed(1)}" r="3" fill="#ff7f0e"><title>iteration ${h.iteration}: mAP ${h.valMAP!.toFixed(4)}</title></circle>`,
        ),
        ...right,
        cut.length
          ? `<text x="${px(0) + 6}" y="42" fill="#1f77b4">loss of the first ${skip} iterations (up to ${Math.max(...cut.map((h) => h.loss)).toFixed(3)}) is above the scale and not drawn</text>`
          : '',
      ].join('\n');
    },
    680,
    400,
    44,
  );
}
