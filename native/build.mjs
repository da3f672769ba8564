#!/usr/bin/env node
// Builds the optional OpenBLAS addon (native/build/Release/earshot_native.node).
// Never fails the install: without a compiler or libopenblas-dev the classifier
// falls back to its pure-TypeScript sgemm (correct, ~100x slower for training).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function nodeGypBin() {
  const candidates = [];
  try {
    candidates.push(require.resolve('node-gyp/bin/node-gyp.js'));
  } catch {}
  // npm ships node-gyp inside its own tree; npm_config_node_gyp points at it during `npm install`.
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  return candidates.find((p) => existsSync(p));
}

const gyp = nodeGypBin();
if (!gyp) {
  console.warn('earshot: node-gyp not found; skipping native addon (pure-TS fallback will be used)');
  process.exit(0);
}
const args = [gyp, 'rebuild'];
// Use the local Node headers (Debian nodejs ships them) so the build works offline.
const prefix = join(dirname(process.execPath), '..');
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
const r = spawnSync(process.execPath, args, { cwd: here, stdio: 'inherit' });
if (r.status !== 0) console.warn('earshot: native addon build failed; the pure-TS fallback will be used (install g++ and libopenblas-dev for fast training)');
process.exit(0);
