// `npm run bench [-- name...]`: runs every bench/*.bench.ts (each exports `run()`),
// writes bench/out/<name>.json and bench/out/all.json, prints a summary.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type BenchResult = Record<string, unknown>;
interface BenchModule {
  run(): Promise<BenchResult>;
}

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const names = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.replace(/\.bench\.ts$/, ''))
  // soak runs an hour: only when named (`npm run bench -- soak`)
  .filter((n) => (only.length === 0 ? n !== 'soak' : only.includes(n)))
  .sort();
const outDir = join(dir, 'out');
mkdirSync(outDir, { recursive: true });
const all: Record<string, BenchResult> = {};
const machine = { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, date: new Date().toISOString() };
for (const name of names) {
  process.stderr.write(`bench ${name} ...\n`);
  const mod = (await import(pathToFileURL(join(dir, `${name}.bench.ts`)).href)) as BenchModule;
  try {
    const result = { machine, ...(await mod.run()) };
    all[name] = result;
    writeFileSync(join(outDir, `${name}.json`), JSON.stringify(result, null, 2));
    process.stdout.write(`${name}: ${JSON.stringify(result)}\n`);
  } catch (e) {
    all[name] = { machine, error: (e as Error).message };
    process.stderr.write(`bench ${name} failed: ${(e as Error).stack}\n`);
    process.exitCode = 1;
  }
}
writeFileSync(join(outDir, 'all.json'), JSON.stringify(all, null, 2));
