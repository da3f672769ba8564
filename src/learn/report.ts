import type { Dataset } from './contracts.js';
import type { Rows } from './learn.js';

/** The cross-validation report (`report.json`; report.md and report.svg render it). */
export interface LearnReport {
  readonly data: string;
  readonly classes: ReadonlyArray<{
    readonly name: string;
    readonly recordings: number;
    readonly threshold: number;
    /** Window level, out of fold, at `threshold`. */
    readonly precision: number;
    readonly recall: number;
    /** Share of held-out examples (as recorded and augmented) with at least one window over threshold. */
    readonly exampleRecall: number;
    /** Events per hour on the out-of-fold background at `threshold`. */
    readonly backgroundFalseAlarmsPerHour: number;
  }>;
  /** rows = true, columns = predicted; the last label is background. */
  readonly confusion: { readonly labels: readonly string[]; readonly matrix: readonly (readonly number[])[] };
  readonly folds: number;
  /** False when a class had a single recording: figures are then in-sample (optimistic). */
  readonly crossValidated: boolean;
  readonly backgroundSeconds: number;
  readonly budgetPerHour: number;
  readonly windows: { readonly positive: number; readonly negative: number };
  readonly skipped: ReadonlyArray<{ readonly path: string; readonly reason: string }>;
  readonly timings: { readonly embedSeconds: number; readonly trainSeconds: number };
}

export interface EvaluateInput {
  readonly ds: Dataset;
  readonly rows: Rows;
  readonly scores: Float32Array;
  readonly classes: number;
  readonly thresholds: readonly number[];
  readonly variantClass: readonly number[];
  readonly variantFold: readonly number[];
  readonly folds: number;
  readonly calibration: ReadonlyArray<{ readonly falseAlarmsPerHour: number }>;
  readonly backgroundSeconds: number;
  readonly budgetPerHour: number;
  readonly timings: LearnReport['timings'];
}

const r4 = (v: number) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v);

export function evaluate(e: EvaluateInput): LearnReport {
  const C = e.classes;
  const cm = Array.from({ length: C + 1 }, () => new Array<number>(C + 1).fill(0));
  const detected = new Uint8Array(e.variantClass.length);
  let positive = 0;
  for (let i = 0; i < e.rows.n; i++) {
    let pred = C;
    let best = -1;
    for (let c = 0; c < C; c++) {
      const s = e.scores[i * C + c]!;
      if (s >= e.thresholds[c]! && s > best) {
        best = s;
        pred = c;
      }
    }
    const truth = e.rows.label[i]! >= 0 ? e.rows.label[i]! : C;
    if (truth < C) positive++;
    cm[truth]![pred]! += 1;
    const v = e.rows.variant[i]!;
    if (v >= 0 && e.scores[i * C + truth]! >= e.thresholds[truth]!) detected[v] = 1;
  }
  const classes = e.ds.classes.map((cls, c) => {
    const col = cm.reduce((n, row) => n + row[c]!, 0);
    const row = cm[c]!.reduce((n, v) => n + v, 0);
    const vids = e.variantClass.map((vc, v) => (vc === c ? v : -1)).filter((v) => v >= 0);
    return {
      name: cls.name,
      recordings: cls.recordings.length,
      threshold: e.thresholds[c]!,
      precision: r4(col ? cm[c]![c]! / col : 0),
      recall: r4(row ? cm[c]![c]! / row : 0),
      exampleRecall: r4(vids.length ? vids.filter((v) => detected[v]).length / vids.length : 0),
      backgroundFalseAlarmsPerHour: r4(e.calibration[c]!.falseAlarmsPerHour),
    };
  });
  return {
    data: e.ds.dir,
    classes,
    confusion: { labels: [...e.ds.classes.map((c) => c.name), 'background'], matrix: cm },
    folds: e.folds,
    crossValidated: e.folds >= 2,
    backgroundSeconds: r4(e.backgroundSeconds),
    budgetPerHour: e.budgetPerHour,
    windows: { positive, negative: e.rows.n - positive },
    skipped: e.ds.skipped,
    timings: { embedSeconds: r4(e.timings.embedSeconds), trainSeconds: r4(e.timings.trainSeconds) },
  };
}

export function reportMarkdown(r: LearnReport): string {
  const pct = (v: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : 'n/a');
  const lines = [
    `# earshot learn: ${r.data}`,
    '',
    r.crossValidated ? `${r.folds}-fold cross-validation by recording; figures are out of fold.` : 'Not cross-validated (a class has one recording): figures are in-sample and optimistic.',
    `Windows: ${r.windows.positive} sound, ${r.windows.negative} background. Background: ${r.backgroundSeconds.toFixed(0)} s; false-alarm budget ${r.budgetPerHour}/hour per class.`,
    '',
    '| class | recordings | threshold | precision | recall | example recall | background false alarms/h |',
    '|---|---|---|---|---|---|---|',
    ...r.classes.map(
      (c) =>
        `| ${c.name} | ${c.recordings} | ${c.threshold.toFixed(3)} | ${pct(c.precision)} | ${pct(c.recall)} | ${pct(c.exampleRecall)} | ${Number.isFinite(c.backgroundFalseAlarmsPerHour) ? c.backgroundFalseAlarmsPerHour.toFixed(2) : 'n/a (no background)'} |`,
    ),
    '',
    '## Confusion matrix (windows; rows true, columns predicted)',
    '',
    `| | ${r.confusion.labels.join(' | ')} |`,
    `|---|${r.confusion.labels.map(() => '---').join('|')}|`,
    ...r.confusion.matrix.map((row, i) => `| **${r.confusion.labels[i]}** | ${row.join(' | ')} |`),
    '',
  ];
  if (r.skipped.length) lines.push('## Skipped files', '', ...r.skipped.map((s) => `- ${s.path}: ${s.reason}`), '');
  return lines.join('\n');
}

function esc(s: string): string {
  return s.replace(/[<>&"]/g, (ch) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[ch]!);
}

/** Per-class precision/recall bars beside a row-normalised confusion heat map. */
export function reportSvg(r: LearnReport): string {
  const n = r.confusion.labels.length;
  const cell = 36;
  const left = 120;
  const top = 40;
  const barX = left + n * cell + 60;
  const h = Math.max(top + n * cell + 90, top + r.classes.length * 40 + 60);
  const w = barX + 260;
  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="11">`];
  out.push(`<text x="${left}" y="20" font-size="13">Confusion (rows true, columns predicted)</text>`);
  r.confusion.matrix.forEach((row, i) => {
    const sum = row.reduce((a, b) => a + b, 0) || 1;
    out.push(`<text x="${left - 6}" y="${top + i * cell + cell / 2 + 4}" text-anchor="end">${esc(r.confusion.labels[i]!)}</text>`);
    row.forEach((v, j) => {
      const a = v / sum;
      out.push(`<rect x="${left + j * cell}" y="${top + i * cell}" width="${cell}" height="${cell}" fill="rgb(${Math.round(255 - 200 * a)},${Math.round(255 - 120 * a)},255)" stroke="#ccc"/>`);
      out.push(`<text x="${left + j * cell + cell / 2}" y="${top + i * cell + cell / 2 + 4}" text-anchor="middle">${v}</text>`);
    });
  });
  r.confusion.labels.forEach((l, j) => {
    const x = left + j * cell + cell / 2;
    const y = top + n * cell + 8;
    out.push(`<text x="${x}" y="${y}" transform="rotate(45 ${x} ${y})">${esc(l)}</text>`);
  });
  out.push(`<text x="${barX}" y="20" font-size="13">Precision / recall (out of fold)</text>`);
  r.classes.forEach((c, i) => {
    const y = top + i * 40;
    out.push(`<text x="${barX}" y="${y + 10}">${esc(c.name)}</text>`);
    out.push(`<rect x="${barX}" y="${y + 14}" width="${200 * c.precision}" height="8" fill="#4a7"/><text x="${barX + 205}" y="${y + 22}">P ${c.precision.toFixed(2)}</text>`);
    out.push(`<rect x="${barX}" y="${y + 24}" width="${200 * c.recall}" height="8" fill="#47a"/><text x="${barX + 205}" y="${y + 32}">R ${c.recall.toFixed(2)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
