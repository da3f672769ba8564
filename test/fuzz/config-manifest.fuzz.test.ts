import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { loadConfig } from '../../src/config/load.js';
import { isEarshotError } from '../../src/errors.js';
import { readModelDir, writeModelDir } from '../../src/models/modeldir.js';
import { projectRoot } from '../helpers/shared.js';
import { FUZZ_CASES, mutateBytes, mutateValue } from './cases.js';

/**
 * Config YAML and model manifests under seeded mutation (bytes of the real
 * config/default.yaml, leaf edits of a real manifest.json). Every case ends in a value
 * or a typed EarshotError with the expected code: never INTERNAL, never a crash.
 */
const root = mkdtempSync(join(tmpdir(), 'earshot-fuzz-'));
after(() => rmSync(root, { recursive: true, force: true }));

test(`config YAML: ${FUZZ_CASES} byte mutations and ${FUZZ_CASES} leaf edits of config/default.yaml`, () => {
  const original = readFileSync(join(projectRoot, 'config/default.yaml'));
  const parsedDefault = loadConfig({ file: join(projectRoot, 'config/default.yaml'), env: {} });
  const outcomes = { ok: 0, CONFIG_INVALID: 0 };
  const file = join(root, 'c.yaml');
  for (let seed = 1; seed <= 2 * FUZZ_CASES; seed++) {
    const text = seed <= FUZZ_CASES ? mutateBytes(original, seed) : JSON.stringify(mutateValue(parsedDefault, seed));
    writeFileSync(file, text);
    try {
      loadConfig({ file, env: {} });
      outcomes.ok++;
    } catch (e) {
      assert.ok(isEarshotError(e, 'CONFIG_INVALID'), `seed ${seed}: ${String(e)}`);
      assert.ok((e as Error).message.length < 20_000);
      outcomes.CONFIG_INVALID++;
    }
  }
  assert.ok(outcomes.CONFIG_INVALID > 0);
  console.log(`config fuzz: ${JSON.stringify(outcomes)}`);
});

test(`model manifest: ${FUZZ_CASES} leaf edits and ${FUZZ_CASES} byte mutations of a real manifest.json`, () => {
  const dir = join(root, 'm');
  const fields = { name: 'toy', architecture: 'toy', version: '1', input: { name: 'x', shape: [-1, 2] }, outputs: [{ name: 'y', shape: [3] }] };
  writeModelDir(
    dir,
    fields,
    new Map([
      ['a', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }],
      ['b', { shape: [4], data: new Float32Array(4) }],
    ]),
    [{ index: 0, id: '/m/09x0r', name: 'Speech' }],
  );
  const path = join(dir, 'manifest.json');
  const original = readFileSync(path);
  const manifest = JSON.parse(original.toString('utf8')) as unknown;
  const allowed = new Set(['MODEL_INVALID', 'MODEL_CHECKSUM_MISMATCH', 'MODEL_NOT_FOUND', 'MODEL_SHAPE_MISMATCH']);
  const outcomes: Record<string, number> = {};
  for (let seed = 1; seed <= 2 * FUZZ_CASES; seed++) {
    writeFileSync(path, seed <= FUZZ_CASES ? JSON.stringify(mutateValue(manifest, seed)) : mutateBytes(original, seed));
    let outcome = 'ok';
    try {
      const md = readModelDir(dir);
      for (const t of md.weights.values())
        assert.equal(
          t.data.length,
          t.shape.reduce((a, b) => a * b, 1),
        );
    } catch (e) {
      assert.ok(isEarshotError(e) && allowed.has(e.code), `seed ${seed}: ${String(e)}`);
      outcome = e.code;
    }
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
  }
  writeFileSync(path, original);
  assert.ok((outcomes.MODEL_INVALID ?? 0) > 0);
  console.log(`manifest fuzz: ${JSON.stringify(outcomes)}`);
});
