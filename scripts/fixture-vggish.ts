// `npm run fixture:vggish -- --out DIR [--pca vggish_pca_params.npz]`: writes a VGGish
// model directory with the deterministic formula weights (tests, benchmarks, demos).
import { parseArgs } from 'node:util';

import { toEarshotError } from '../src/errors.js';
import { writeFormulaVggishDir } from '../src/models/vggish/index.js';

try {
  const { values } = parseArgs({ options: { out: { type: 'string' }, pca: { type: 'string' } } });
  if (!values.out) throw new Error('usage: fixture-vggish --out DIR [--pca vggish_pca_params.npz]');
  const m = writeFormulaVggishDir(values.out, values.pca);
  process.stdout.write(`wrote ${values.out} (${m.weights.tensors.length} tensors, sha256 ${m.weights.sha256.slice(0, 12)}${values.pca ? ', PCA params' : ''})\n`);
} catch (e) {
  const err = toEarshotError(e);
  process.stderr.write(`error [${err.code}]: ${err.message}\n`);
  process.exitCode = 2;
}
