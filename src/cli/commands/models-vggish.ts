import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';

import { EarshotError } from '../../errors.js';
import { fetchVggish } from '../../models/fetch/vggish.js';
import { type ImportResult, importVggish, type WeightFormat } from '../../models/import/vggish.js';
import { action, configFrom } from '../common.js';

interface ImportOpts {
  format?: string;
  pca?: string;
  out?: string;
  progress?: boolean;
}

interface FetchOpts {
  baseUrl?: string;
  out?: string;
  sha256?: string;
  pcaSha256?: string;
  keepDownloads?: boolean;
  progress?: boolean;
}

const FORMATS: readonly WeightFormat[] = ['ckpt', 'pth', 'tfjs'];

/** A progress bar on stderr, only when it is a terminal (or forced), so piped output stays clean. */
function progressBar(label: string, enabled: boolean): { update(done: number, total: number | undefined): void; stop(): void } {
  if (!enabled) return { update() {}, stop() {} };
  const bar = new SingleBar(
    { format: `${label} [{bar}] {percentage}% | {value}/{total} MB`, stream: process.stderr, noTTYOutput: true, notTTYSchedule: 2000, hideCursor: true },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      const mb = (n: number): number => Math.round(n / 1e5) / 10;
      if (!started) {
        bar.start(mb(total ?? done), 0);
        started = true;
      }
      if (total !== undefined) bar.setTotal(mb(total));
      bar.update(mb(done));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

function report(r: ImportResult): string {
  const params = r.manifest.weights.tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
  const skipped = r.skipped.length ? `; ignored ${r.skipped.map((s) => `${s.name} (${s.dtype})`).join(', ')}` : '';
  return `imported vggish (${r.format}, ${r.manifest.weights.tensors.length} tensors, ${params} parameters${r.hasPca ? ', PCA params' : ', no PCA params'}) into ${r.dir}\nsource sha256 ${r.sourceSha256}\nweights sha256 ${r.manifest.weights.sha256}${skipped}\n`;
}

/** `earshot models import vggish <path>` and `earshot models fetch vggish`. */
export function registerModelsVggish(importCmd: Command, fetchCmd: Command): void {
  importCmd
    .command('vggish <path>')
    .description('convert VGGish weights (TF1 checkpoint, torchvggish .pth or TF.js model.json) into a model directory (default: config models.vggishDir)')
    .option('-f, --format <format>', `source format: ${FORMATS.join('|')} (default: detected from the file)`)
    .option('--pca <file>', 'PCA params: vggish_pca_params.npz or torchvggish vggish_pca_params-*.pth')
    .option('-o, --out <dir>', 'output model directory')
    .option('--progress', 'show a progress bar on stderr even when it is not a terminal')
    .action(
      action((path: string, opts: ImportOpts, cmd: Command) => {
        const cfg = configFrom(cmd);
        if (opts.format !== undefined && !FORMATS.includes(opts.format as WeightFormat)) {
          throw new EarshotError('INPUT_INVALID', `--format ${opts.format}: expected one of ${FORMATS.join(', ')}`);
        }
        const outDir = opts.out ?? cfg.models.vggishDir;
        const bar = progressBar('reading', opts.progress === true || process.stderr.isTTY === true);
        try {
          const r = importVggish({
            source: path,
            outDir,
            ...(opts.format ? { format: opts.format as WeightFormat } : {}),
            ...(opts.pca ? { pca: opts.pca } : {}),
            onProgress: (d, t) => bar.update(d, t),
          });
          bar.stop();
          process.stdout.write(report(r));
        } finally {
          bar.stop();
        }
      }),
    );

  fetchCmd
    .command('vggish')
    .description('download the published VGGish checkpoint and PCA params (config models.fetchBaseUrl), verify and import them (resumes partial downloads)')
    .option('--base-url <url>', 'where vggish_model.ckpt and vggish_pca_params.npz live (default: config models.fetchBaseUrl)')
    .option('-o, --out <dir>', 'output model directory (default: config models.vggishDir)')
    .option('--sha256 <hex>', 'expected sha256 of vggish_model.ckpt')
    .option('--pca-sha256 <hex>', 'expected sha256 of vggish_pca_params.npz')
    .option('--keep-downloads', 'keep the downloaded files in <out>.download after importing')
    .option('--progress', 'show progress bars on stderr even when it is not a terminal')
    .action(
      action(async (opts: FetchOpts, cmd: Command) => {
        const cfg = configFrom(cmd);
        const outDir = opts.out ?? cfg.models.vggishDir;
        const show = opts.progress === true || process.stderr.isTTY === true;
        const bars = new Map<string, ReturnType<typeof progressBar>>();
        const importBar = progressBar('importing', show);
        try {
          const r = await fetchVggish({
            baseUrl: opts.baseUrl ?? cfg.models.fetchBaseUrl,
            outDir,
            ...(opts.sha256 ? { sha256: opts.sha256 } : {}),
            ...(opts.pcaSha256 ? { pcaSha256: opts.pcaSha256 } : {}),
            ...(opts.keepDownloads ? { keepDownloads: true } : {}),
            onProgress: (file, d, t) => {
              let b = bars.get(file);
              if (!b) {
                b = progressBar(file, show);
                bars.set(file, b);
              }
              b.update(d, t);
            },
            onImportProgress: (d, t) => importBar.update(d, t),
          });
          for (const b of bars.values()) b.stop();
          importBar.stop();
          for (const [file, d] of Object.entries(r.downloads)) {
            const how = d.cached ? 'already downloaded' : d.resumedFrom > 0 ? `resumed at byte ${d.resumedFrom}` : 'downloaded';
            process.stdout.write(`${file}: ${how}, ${d.bytes} bytes, sha256 ${d.sha256}\n`);
          }
          process.stdout.write(report(r));
        } finally {
          for (const b of bars.values()) b.stop();
          importBar.stop();
        }
      }),
    );
}
