import assert from 'node:assert/strict';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import wavefile from 'wavefile';

import { isEarshotError } from '../../src/errors.js';
import { readModelDir, writeModelDir } from '../../src/models/modeldir.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const fields = { name: 'toy', architecture: 'toy', version: '1', input: { name: 'x', shape: [-1, 2] }, outputs: [{ name: 'y', shape: [3] }] };

function toyDir(): { dir: string; manifest: Record<string, unknown>; save: (m: unknown) => void } {
  const dir = join(tempDir('mc'), 'm');
  writeModelDir(dir, fields, new Map([['a', { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }]]), [{ index: 0, id: '/m/09x0r', name: 'Speech' }]);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  return { dir, manifest, save: (m) => writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m)) };
}

const invalid = (re: RegExp) => (e: unknown) => isEarshotError(e, 'MODEL_INVALID') && re.test(e.message);

test('files a manifest names must stay inside the model directory (after symlinks): MODEL_INVALID naming the key', () => {
  for (const [key, value] of [
    ['weights', '../../../../../../etc/passwd'],
    ['weights', '/etc/passwd'],
    ['labels', '../../../../../../etc/passwd'],
    ['extras', '../../../../../../etc/passwd'],
  ] as const) {
    const { manifest, save, dir } = toyDir();
    const m = structuredClone(manifest) as { weights: { file: string }; labels: { file: string }; extras?: Record<string, string> };
    if (key === 'weights') m.weights.file = value;
    else if (key === 'labels') m.labels.file = value;
    else m.extras = { pca: value };
    save(m);
    assert.throws(() => readModelDir(dir), invalid(new RegExp(`${key === 'extras' ? 'extras.pca' : `${key}.file`} .* resolves outside the model directory`)), `${key}=${value}`);
  }
  const { dir, manifest, save } = toyDir();
  symlinkSync('/etc/passwd', join(dir, 'labels-link.csv'));
  save({ ...manifest, labels: { file: 'labels-link.csv', count: 1 } });
  assert.throws(() => readModelDir(dir), invalid(/labels\.file "labels-link\.csv" resolves outside/));
  // a symlink that stays inside is fine
  symlinkSync(join(dir, 'labels.csv'), join(dir, 'inside.csv'));
  save({ ...manifest, labels: { file: 'inside.csv', count: 1 } });
  assert.equal(readModelDir(dir).labels[0]!.name, 'Speech');
});

test('negative offsets and shapes in a manifest are MODEL_INVALID naming the field', () => {
  const { dir, manifest, save } = toyDir();
  const tensors = (manifest.weights as { tensors: { offsetBytes: number; shape: number[] }[] }).tensors;
  save({ ...manifest, weights: { ...(manifest.weights as object), tensors: [{ ...tensors[0]!, offsetBytes: -8 }] } });
  assert.throws(() => readModelDir(dir), invalid(/weights\.tensors\.0\.offsetBytes/));
  save({ ...manifest, weights: { ...(manifest.weights as object), tensors: [{ ...tensors[0]!, shape: [-2, 3] }] } });
  assert.throws(() => readModelDir(dir), invalid(/weights\.tensors\.0\.shape\.0/));
  save({ ...manifest, weights: { ...(manifest.weights as object), tensors: [{ ...tensors[0]!, offsetBytes: 2 }] } });
  assert.throws(() => readModelDir(dir), invalid(/multiple of 4/));
  save({ ...manifest, weights: 'nope' });
  assert.throws(() => readModelDir(dir), invalid(/weights/));
});

test('CLI: a model directory pointing at /etc/passwd fails with MODEL_INVALID, exit 2, without printing its contents', async () => {
  const { dir, manifest, save } = toyDir();
  save({ ...manifest, architecture: 'yamnet', weights: { ...(manifest.weights as object), file: '../../../../../../../etc/passwd' } });
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, 16000, '16', new Int16Array(16000) as unknown as number[]);
  writeFileSync(join(dir, '..', 'quiet.wav'), wav.toBuffer());
  const r = await runCli(['tag', '--model', dir, join(dir, '..', 'quiet.wav')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /error \[MODEL_INVALID\]: .*weights\.file/);
  assert.doesNotMatch(r.stdout + r.stderr, /root:x:0/);
});
