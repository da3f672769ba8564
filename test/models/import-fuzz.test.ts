import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { type ErrorCode,isEarshotError } from '../../src/errors.js';
import { writeTfjs } from '../../src/models/import/tfjs.js';
import { readVggishSource, type WeightFormat } from '../../src/models/import/vggish.js';
import { writeModelDir } from '../../src/models/modeldir.js';
import { writeCheckpointV1 } from '../helpers/checkpoints.js';
import { writeCheckpointV2 } from '../helpers/checkpoints.js';
import { asRawTensors, miniVggishTable, seededWeights } from '../helpers/import-fixtures.js';
import { projectRoot } from '../helpers/shared.js';

// Corruption fuzzing: seeded byte flips and truncations of every format. Each
// mutated file must either fail with a typed EarshotError naming the file, or
// (when the flip hit bytes no reader uses, e.g. zip timestamps or footer
// padding) import exactly the original weights. Never a crash, never different
// weights. Formats without checksums over some bytes (legacy .pth pickles and
// storages, TF.js shards) are fuzzed only where corruption is detectable:
// truncation, and the structural files (model.json).

const table = miniVggishTable();
const w = seededWeights(table, 99);
const ALLOWED: ReadonlySet<ErrorCode> = new Set(['MODEL_INVALID', 'DATA_CORRUPT', 'DATA_UNSUPPORTED', 'MODEL_NOT_FOUND', 'MODEL_UNKNOWN_VARIABLE', 'MODEL_SHAPE_MISMATCH']);
let dir = '';
const f = (n: string): string => join(dir, n);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'earshot-fuzz-'));
  const tensors = asRawTensors(w);
  writeCheckpointV1(f('v1.ckpt'), tensors);
  writeCheckpointV2(f('v2.ckpt'), tensors);
  writeTfjs(f('tfjs'), tensors, 20000);
  writeModelDir(f('tf'), { name: 't', architecture: 'vggish', version: '0', input: { name: 'patches', shape: [96, 64, 1] }, outputs: [] }, w);
  writeFileSync(f('jobs.json'), JSON.stringify([{ model_dir: f('tf'), out: f('zip.pth') }, { model_dir: f('tf'), out: f('legacy.pth'), legacy: true }]));
  execFileSync('/usr/bin/python3', [join(projectRoot, 'test/fixtures/make_pth.py'), '--jobs', f('jobs.json')], { stdio: ['ignore', 'ignore', 'inherit'] });
});

after(() => rmSync(dir, { recursive: true, force: true }));

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function summary(o: Outcome): string {
  return `${o.identical} identical, errors ${JSON.stringify(Object.fromEntries(o.errors))}`;
}

interface Outcome {
  errors: Map<string, number>;
  identical: number;
}

/** Reads `path` (after the caller mutated `target`) and checks the no-crash, no-garbage contract. */
function check(path: string, format: WeightFormat, target: string, what: string, out: Outcome): void {
  let weights;
  try {
    weights = readVggishSource(path, { table, format }).weights;
  } catch (e) {
    assert.ok(isEarshotError(e), `${what}: threw a non-EarshotError: ${String((e as Error)?.stack ?? e)}`);
    assert.ok(ALLOWED.has(e.code), `${what}: unexpected code ${e.code}: ${e.message}`);
    assert.ok(e.message.includes(dir), `${what}: message does not name the file: ${e.message}`);
    out.errors.set(e.code, (out.errors.get(e.code) ?? 0) + 1);
    return;
  }
  for (const [name, t] of w) assert.deepEqual(weights.get(name)!.data, t.data, `${what}: imported different values for ${name} (target ${target})`);
  out.identical++;
}

function fuzz(label: string, format: WeightFormat, readPath: string, targets: string[], opts: { flips: boolean; seed: number; rounds: number }): Outcome {
  const out: Outcome = { errors: new Map(), identical: 0 };
  const next = rng(opts.seed);
  for (const target of targets) {
    const orig = readFileSync(target);
    const backup = `${target}.orig`;
    copyFileSync(target, backup);
    try {
      for (let i = 0; i < opts.rounds; i++) {
        const b = Buffer.from(orig);
        let what: string;
        if (opts.flips && next() < 0.7) {
          const n = 1 + Math.floor(next() * 3);
          const at: number[] = [];
          for (let k = 0; k < n; k++) {
            const p = Math.floor(next() * b.length);
            b[p] = b[p]! ^ (1 + Math.floor(next() * 255));
            at.push(p);
          }
          writeFileSync(target, b);
          what = `${label}: flip ${target} @${at.join(',')}`;
        } else {
          const len = Math.floor(next() * b.length);
          writeFileSync(target, b.subarray(0, len));
          what = `${label}: truncate ${target} to ${len}/${b.length}`;
        }
        check(readPath, format, target, what, out);
      }
    } finally {
      copyFileSync(backup, target);
      rmSync(backup);
    }
  }
  return out;
}

test('V1 checkpoint: flips and truncations never crash or change weights (block CRCs cover everything)', (t) => {
  const o = fuzz('v1', 'ckpt', f('v1.ckpt'), [f('v1.ckpt')], { flips: true, seed: 1, rounds: 150 });
  assert.ok((o.errors.get('DATA_CORRUPT') ?? 0) > 50, `crc failures: ${JSON.stringify([...o.errors])}`);
  t.diagnostic(summary(o));
});

test('V2 checkpoint: flips and truncations of the index and the data shard', (t) => {
  const o = fuzz('v2', 'ckpt', f('v2.ckpt'), [f('v2.ckpt.index'), f('v2.ckpt.data-00000-of-00001')], { flips: true, seed: 2, rounds: 100 });
  assert.ok((o.errors.get('DATA_CORRUPT') ?? 0) > 50, JSON.stringify([...o.errors]));
  t.diagnostic(summary(o));
});

test('torch zip .pth: flips and truncations (zip CRC-32 covers data.pkl and every storage)', (t) => {
  const o = fuzz('pth', 'pth', f('zip.pth'), [f('zip.pth')], { flips: true, seed: 3, rounds: 150 });
  assert.ok((o.errors.get('DATA_CORRUPT') ?? 0) > 30, JSON.stringify([...o.errors]));
  t.diagnostic(summary(o));
});

test('legacy .pth: truncations anywhere are errors', (t) => {
  const o = fuzz('legacy', 'pth', f('legacy.pth'), [f('legacy.pth')], { flips: false, seed: 4, rounds: 80 });
  assert.equal(o.identical, 0);
  t.diagnostic(summary(o));
});

test('TF.js: model.json flips and shard truncations', (t) => {
  const shards = readdirSync(f('tfjs')).filter((n) => n.endsWith('.bin')).map((n) => join(f('tfjs'), n));
  const j = fuzz('tfjs.json', 'tfjs', f('tfjs/model.json'), [f('tfjs/model.json')], { flips: true, seed: 5, rounds: 150 });
  t.diagnostic(`model.json: ${summary(j)}`);
  const o = fuzz('tfjs.bin', 'tfjs', f('tfjs/model.json'), shards, { flips: false, seed: 6, rounds: 10 });
  assert.equal(o.identical, 0);
  t.diagnostic(summary(o));
});
