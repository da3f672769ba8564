import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { projectRoot } from '../helpers/shared.js';

// Issue #20 gap 8: every `npx earshot …` warned about the project .npmrc's ORT keys, and
// `npm ci` about install scripts not covered by allowScripts. package.json's allowScripts
// now denies onnxruntime-node's CUDA download (the CPU library ships in its package) and
// allows the two scripts the build needs.
const npm = (args: string[]) => spawnSync('npm', args, { cwd: projectRoot, encoding: 'utf8', timeout: 180_000 });

test('npx earshot prints no npm warnings', () => {
  const r = npm(['exec', '--offline', '--', 'earshot', '--version']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^\d+\.\d+\.\d+/);
  assert.doesNotMatch(r.stderr, /npm warn/i);
});

test("every dependency install script is reviewed in allowScripts; ORT's downloader is denied", () => {
  const r = npm(['approve-scripts', '--allow-scripts-pending']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /No packages with unreviewed install scripts/);
  const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { allowScripts: Record<string, boolean> };
  assert.equal(pkg.allowScripts['onnxruntime-node'], false);
});
