#!/usr/bin/env node
// Thin launcher: the compiled CLI (npm ci runs `prepare`, which builds dist/).
import { existsSync } from 'node:fs';
const dist = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(dist)) {
  process.stderr.write('earshot: dist/ is missing; run `npm run build` (npm ci does this)\n');
  process.exit(1);
}
await import(dist.href);
